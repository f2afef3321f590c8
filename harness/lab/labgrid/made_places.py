"""Places on the coordinator through labgrid's own gRPC calls (``AddPlace``, ``AddPlaceMatch``, ``SetPlaceTags``).

The same calls ``labgrid-client create``, ``add-match`` and ``set-tags`` make,
over one channel: four programs per place would cost seconds of CPU each
(every ``labgrid-client`` imports gRPC afresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from harness.lab.labgrid import LabgridError
from harness.lab.labgrid.export_config import PlaceSpec

#: Seconds each call to the coordinator may take.
CALL_TIMEOUT = 30.0


@dataclass
class PlacesMade:
    """Which places the export made, and which it found (left as they were, with their matches)."""

    made: list[str]
    existing: dict[str, list[str]]


def _stub(address: str) -> tuple[Any, Any, Any]:
    import grpc
    from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2
    from labgrid.remote.generated import labgrid_coordinator_pb2_grpc as pb2_grpc

    channel = grpc.insecure_channel(address)
    return channel, pb2_grpc.CoordinatorStub(channel), pb2


def _match_text(match: Any) -> str:
    return "/".join([match.exporter, match.group, match.cls] + ([match.name] if match.HasField("name") else []))


def ensure_places(address: str, specs: Iterable[PlaceSpec], timeout: float = CALL_TIMEOUT) -> PlacesMade:
    """Make each place in ``specs`` that the coordinator at ``address`` lacks; leave the others untouched.

    An existing place keeps its matches, tags and holder: it may be another
    host's handset of the same name, or one a person set up by hand.
    """
    import grpc

    specs = list(specs)
    channel, stub, pb2 = _stub(address)
    what = "GetPlaces"
    try:
        existing = {p.name: [_match_text(m) for m in p.matches]
                    for p in stub.GetPlaces(pb2.GetPlacesRequest(), timeout=timeout).places}
        made = []
        for spec in specs:
            if spec.name in existing:
                continue
            what = f"AddPlace {spec.name}"
            stub.AddPlace(pb2.AddPlaceRequest(name=spec.name), timeout=timeout)
            for pattern in spec.matches:
                what = f"AddPlaceMatch {spec.name} {pattern}"
                stub.AddPlaceMatch(pb2.AddPlaceMatchRequest(placename=spec.name, pattern=pattern), timeout=timeout)
            what = f"SetPlaceTags {spec.name}"
            stub.SetPlaceTags(pb2.SetPlaceTagsRequest(placename=spec.name, tags=spec.tags), timeout=timeout)
            what = f"SetPlaceComment {spec.name}"
            stub.SetPlaceComment(pb2.SetPlaceCommentRequest(placename=spec.name, comment=spec.comment),
                                 timeout=timeout)
            made.append(spec.name)
        return PlacesMade(made, {name: existing[name] for name in (s.name for s in specs) if name in existing})
    except grpc.RpcError as exc:
        raise LabgridError(f"coordinator {address}: {what} failed: {exc.code().name}: {exc.details()}") from None
    finally:
        channel.close()
