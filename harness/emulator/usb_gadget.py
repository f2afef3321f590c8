"""The emulated handset as a USB device: descriptors and the ADB interface's two bulk endpoints.

Like usbip, the device side is served over a socket (``usb`` endpoint); the
host side is a pyusb backend (``harness.emulator.usb_backend``) that turns
``usb.core.find`` and bulk transfers into requests on that socket. Everything
the host learns (descriptors, strings) comes from here, as from a real phone.

Wire format: request ``<BBII`` (op, endpoint/arg, length, timeout ms) + payload;
reply ``<iI`` (status: 0 or a negative libusb error, length) + payload.
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
from typing import Any

from harness.emulator.adb_words import USB_CLASS, USB_PROTOCOL, USB_SUBCLASS
from harness.emulator.adb_device import DEFAULT_MAXDATA, DeviceSession
from harness.emulator.transport_service import CommandHandler, takes
from harness.emulator.trust import KeyStore, keystore_for

OP_DESCRIPTORS, OP_CLAIM, OP_RELEASE, OP_BULK_OUT, OP_BULK_IN, OP_CLEAR_HALT, OP_STRING, OP_ATTACH = 1, 2, 3, 4, 5, 6, 7, 8
REQUEST = struct.Struct("<BBII")
REPLY = struct.Struct("<iI")
# libusb error codes
LIBUSB_ERROR_IO, LIBUSB_ERROR_NO_DEVICE, LIBUSB_ERROR_BUSY, LIBUSB_ERROR_TIMEOUT, LIBUSB_ERROR_PIPE = -1, -4, -6, -7, -9
EP_OUT, EP_IN = 0x01, 0x81
MAX_PACKET = 512


def _string_descriptor(text: str) -> bytes:
    body = text.encode("utf-16-le")
    return bytes([2 + len(body), 3]) + body


def descriptors(vendor: int, product: int) -> bytes:
    """Device descriptor (18 bytes) + configuration with the ADB interface and its bulk endpoints."""
    device = struct.pack("<BBHBBBBHHHBBBB", 18, 1, 0x0200, 0, 0, 0, 64, vendor, product, 0x0100, 1, 2, 3, 1)
    interface = struct.pack("<BBBBBBBBB", 9, 4, 0, 0, 2, USB_CLASS, USB_SUBCLASS, USB_PROTOCOL, 4)
    ep_out = struct.pack("<BBBBHB", 7, 5, EP_OUT, 2, MAX_PACKET, 0)
    ep_in = struct.pack("<BBBBHB", 7, 5, EP_IN, 2, MAX_PACKET, 0)
    total = 9 + len(interface) + len(ep_out) + len(ep_in)
    config = struct.pack("<BBHBBBBB", 9, 2, total, 1, 1, 0, 0x80, 250) + interface + ep_out + ep_in
    return device + config


class _Link:
    """One claimed interface: the adbd session fed by bulk OUT, draining into bulk IN transfers."""

    def __init__(self, gadget: "UsbGadget") -> None:
        self.gadget = gadget
        self._in_buf = bytearray()
        self._cond = threading.Condition()
        self.transfers: queue.Queue[bytes | None] = queue.Queue()
        self._pending = b""
        self.closed = False
        self.session = DeviceSession(gadget.phone, gadget.keys, self._recv, self._send, self._close, gadget.max_data)
        threading.Thread(target=self.session.serve, name="adbd-usb", daemon=True).start()

    def _recv(self, n: int) -> bytes:
        with self._cond:
            while len(self._in_buf) < n:
                if self.closed:
                    raise EOFError("USB link closed")
                self._cond.wait(0.5)
            data = bytes(self._in_buf[:n])
            del self._in_buf[:n]
            return data

    def _send(self, header: bytes, payload: bytes | memoryview) -> None:
        if self.closed:
            raise OSError("USB link closed")
        # adbd writes the header and the payload as separate transfers
        self.transfers.put(header)
        if len(payload):
            self.transfers.put(payload)

    def _close(self) -> None:
        self.close()

    def feed(self, data: bytes) -> None:
        with self._cond:
            self._in_buf += data
            self._cond.notify_all()

    def read(self, max_len: int, timeout: float) -> bytes | None:
        if not self._pending:
            try:
                item = self.transfers.get(timeout=timeout)
            except queue.Empty:
                return None
            if item is None:
                self.transfers.put(None)
                raise OSError("gone")
            self._pending = item
        data, self._pending = self._pending[:max_len], self._pending[max_len:]
        return data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transfers.put(None)
            with self._cond:
                self._cond.notify_all()
            self.session.alive = False


class UsbGadget:
    """Serves the USB device over TCP on 127.0.0.1; unplugged while the phone is off (or on request)."""

    def __init__(self, phone: Any, keys: KeyStore, max_data: int = DEFAULT_MAXDATA) -> None:
        self.phone = phone
        self.keys = keys
        self.max_data = max_data
        self.plugged = True
        self._claimed: _Link | None = None
        self._lock = threading.Lock()
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self._conns: set[socket.socket] = set()
        self._stopped = False

    @property
    def present(self) -> bool:
        return self.plugged and self.phone.booted

    def start(self) -> dict[str, Any]:
        threading.Thread(target=self._accept, name="usb-gadget", daemon=True).start()
        self.phone.add_power_listener(lambda on: None if on else self._drop())
        host, port = self._server.getsockname()
        return {"usb": f"{host}:{port}"}

    def _drop(self) -> None:
        with self._lock:
            link, self._claimed = self._claimed, None
            conns = list(self._conns)
        if link is not None:
            link.close()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        mine: _Link | None = None
        try:
            while True:
                head = recv_exact(conn, REQUEST.size)
                op, arg, length, timeout_ms = REQUEST.unpack(head)
                payload = recv_exact(conn, length) if op in (OP_BULK_OUT, OP_ATTACH) and length else b""
                if not self.present:
                    conn.sendall(REPLY.pack(LIBUSB_ERROR_NO_DEVICE, 0))
                    continue
                if op == OP_DESCRIPTORS:
                    p = self.phone.profile
                    out = descriptors(p.usb_vendor_id, p.usb_product_id)
                    conn.sendall(REPLY.pack(0, len(out)) + out)
                elif op == OP_STRING:
                    strings = {0: b"\x04\x03\x09\x04", 1: _string_descriptor(self.phone.profile.manufacturer),
                               2: _string_descriptor(self.phone.profile.model), 3: _string_descriptor(self.phone.serial),
                               4: _string_descriptor("ADB Interface")}
                    out = strings.get(arg)
                    conn.sendall(REPLY.pack(LIBUSB_ERROR_PIPE, 0) if out is None else REPLY.pack(0, len(out)) + out)
                elif op == OP_CLAIM:
                    with self._lock:
                        if self._claimed is not None and self._claimed is not mine and not self._claimed.closed:
                            status = LIBUSB_ERROR_BUSY
                        else:
                            mine = self._claimed = mine if mine is not None and not mine.closed else _Link(self)
                            status = 0
                    token = struct.pack("<I", id(mine) & 0xFFFFFFFF) if status == 0 else b""
                    conn.sendall(REPLY.pack(status, len(token)) + token)
                elif op == OP_ATTACH:
                    # A second connection for the IN endpoint: transfers in both directions at once, as on USB.
                    with self._lock:
                        link = self._claimed
                    ok = link is not None and struct.pack("<I", id(link) & 0xFFFFFFFF) == payload
                    if ok:
                        mine = link
                    conn.sendall(REPLY.pack(0 if ok else LIBUSB_ERROR_IO, 0))
                elif op == OP_RELEASE:
                    if mine is not None:
                        mine.close()
                        with self._lock:
                            if self._claimed is mine:
                                self._claimed = None
                        mine = None
                    conn.sendall(REPLY.pack(0, 0))
                elif op == OP_CLEAR_HALT:
                    conn.sendall(REPLY.pack(0, 0))
                elif op in (OP_BULK_OUT, OP_BULK_IN):
                    if mine is None or mine.closed:
                        conn.sendall(REPLY.pack(LIBUSB_ERROR_IO if mine is None else LIBUSB_ERROR_NO_DEVICE, 0))
                    elif op == OP_BULK_OUT:
                        mine.feed(payload)
                        conn.sendall(REPLY.pack(0, 0))  # accepted; no payload in the reply
                    else:
                        try:
                            data = mine.read(length, timeout_ms / 1000 if timeout_ms else 3600)
                        except OSError:
                            conn.sendall(REPLY.pack(LIBUSB_ERROR_NO_DEVICE, 0))
                            continue
                        if data is None:
                            conn.sendall(REPLY.pack(LIBUSB_ERROR_TIMEOUT, 0))
                        else:
                            conn.sendall(REPLY.pack(0, len(data)) + data)
                else:
                    conn.sendall(REPLY.pack(LIBUSB_ERROR_IO, 0))
        except (OSError, EOFError):
            pass
        finally:
            if mine is not None:
                mine.close()
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def stop(self) -> None:
        self._stopped = True
        self._drop()
        self._server.close()

    def commands(self) -> dict[str, CommandHandler]:
        def unplug(req: dict[str, Any]) -> dict[str, Any]:
            self.plugged = False
            self._drop()
            return {"plugged": False}

        def plug(req: dict[str, Any]) -> dict[str, Any]:
            self.plugged = True
            return {"plugged": True}
        return {"usb_unplug": takes("")(unplug), "usb_plug": takes("")(plug)}


def recv_exact(conn: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def usb_gadget_service(phone: Any, options: dict[str, Any]) -> UsbGadget:
    """Factory for the emulator host: the same keys and maxdata as ADB over TCP."""
    return UsbGadget(phone, keystore_for(options), max_data=options.get("adb_maxdata") or DEFAULT_MAXDATA)
