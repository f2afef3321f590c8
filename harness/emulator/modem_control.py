"""The emulated modem's control-socket commands: lab set-up and the emulator's own tests, never the flows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.emulator.pty_port import FAULT_USAGE, apply_fault
from harness.emulator.transport_service import CommandHandler, takes

if TYPE_CHECKING:
    from harness.emulator.modem_device import EmulatedModem


def control_commands(modem: EmulatedModem) -> dict[str, CommandHandler]:
    """modem_inbox, modem_clear, modem_slow, modem_restart, modem_signal, modem_state, modem_fault."""
    def inbox(req: dict[str, Any]) -> dict[str, Any]:
        with modem._lock:
            return {"messages": [{"memory": mem, "index": i, "status": st.status,
                                  "sender": getattr(st.item, "sender", None)}
                                 for mem, slots in sorted(modem.store.slots.items()) for i, st in sorted(slots.items())]}

    def clear(req: dict[str, Any]) -> dict[str, Any]:
        """Empty every memory (lab set-up between tests that share one modem)."""
        with modem._lock:
            dropped = sum(len(slots) for slots in modem.store.slots.values())
            for slots in modem.store.slots.values():
                slots.clear()
            modem._held.clear()
        return {"cleared": dropped}

    def slow(req: dict[str, Any]) -> dict[str, Any]:
        modem.slow = float(req.get("seconds", 0))
        return {"slow": modem.slow}

    def restart(req: dict[str, Any]) -> dict[str, Any]:
        again = req.get("reenumerate")
        again = None if again is None else str(again).lower() in ("1", "true", "yes", "on")
        modem.restart(float(req.get("down", 0.5)), again)
        return {"restarting": True, "down": float(req.get("down", 0.5)), "reenumerate": again}

    def signal(req: dict[str, Any]) -> dict[str, Any]:
        modem.set_signal(int(req["rssi"]))
        return {"rssi": modem.rssi}

    def state(req: dict[str, Any]) -> dict[str, Any]:
        with modem._lock:
            return {"vendor": modem.vendor.name, "booting": modem.booting, "cnmi": list(modem.cnmi), "cpms": modem.cpms,
                    "urc_port": modem.urc_port_name, "cmgf": [s.cmgf for s in modem.settings],
                    "ports": modem.port_names, "plugged": modem.usb.plugged}

    def fault(req: dict[str, Any]) -> dict[str, Any]:
        return apply_fault(modem.ports[int(req.get("port", 0))], req)

    return {"modem_inbox": takes("")(inbox), "modem_clear": takes("")(clear), "modem_slow": takes("seconds")(slow),
            "modem_restart": takes("[down=0.5] [reenumerate]")(restart), "modem_signal": takes("rssi")(signal),
            "modem_state": takes("")(state), "modem_fault": takes(FAULT_USAGE + " [port=0]")(fault)}
