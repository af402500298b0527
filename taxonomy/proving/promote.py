"""Make a reviewed label's outputs the production ones, and roll that back (``taxonomy promote``).

How the swap stays safe for readers, on a local disk and on S3 alike:

- Each published partition is one object, replaced by one atomic write (a rename locally, one PUT
  on S3), so a reader of one partition sees the old object or the new one, never part of either.
- Every partition of a publication carries the publication's fingerprint; the label's partitions of
  a customer all carry the label run's, production's all carry production's. A reader of a customer's
  outputs (:func:`taxonomy.publish.read_customer_outputs`, used by ``show`` and the report) re-reads
  until the fingerprints agree, so it gets the old set or the new set, never a mix.
- Partitions are swapped customer by customer, ``scores/`` last (a scores row appears only once what
  it summarises is in place), exactly as ``publish`` writes them.

Before anything is replaced, the production objects are copied byte for byte to
``promotions/id=<id>/backup/`` and a manifest (label, as of, customers, what was absent) is written
to ``promotions/id=<id>/manifest.json``; the manifest's ``state`` goes ``prepared`` -> ``promoted``
(-> ``rolled_back``). ``rollback`` restores the backed-up bytes exactly and removes partitions the
promotion created. A promotion that stopped half way (``prepared``) is rolled back the same way.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from taxonomy.errors import TaxonomyError
from taxonomy.storage import PART_FILE, Store, validate_customer_id, validate_label

__all__ = ["DATASETS", "promote", "rollback"]

DATASETS = ("conversations", "topics", "trends", "scores")  # publish's write order: scores last
PROMOTIONS = "promotions"


def _file(store: Store, name: str, as_of: date, cid: str) -> str:
    return f"{store.partition(name, as_of=as_of, customer_id=cid)}/{PART_FILE}"


def _backup_file(prod: Store, pid: str, name: str, cid: str) -> str:
    return f"{prod.partition(PROMOTIONS, id=pid)}/backup/{name}/customer_id={validate_customer_id(cid)}/{PART_FILE}"


def _manifest_path(prod: Store, pid: str) -> str:
    return f"{prod.partition(PROMOTIONS, id=pid)}/manifest.json"


def _write_manifest(prod: Store, pid: str, manifest: dict) -> None:
    prod.write_bytes_atomic(_manifest_path(prod, pid), json.dumps(manifest, indent=2, sort_keys=True).encode())


def _label_customers(src: Store, as_of: date, customers: list[str] | None) -> list[str]:
    published = src.list_partitions("scores", "customer_id", within=f"{src.dataset('scores')}/as_of={as_of.isoformat()}")
    wanted = sorted(set(customers)) if customers else published
    if not wanted:
        raise TaxonomyError(f"label {src.label!r} has no published scores as of {as_of}", file=src.uri(src.dataset("scores")))
    for cid in wanted:
        validate_customer_id(cid)
        missing = [n for n in DATASETS if not src.exists(_file(src, n, as_of, cid))]
        if missing:
            raise TaxonomyError(f"label {src.label!r} has no {', '.join(missing)} for customer {cid} as of {as_of}: "
                                "nothing complete to promote", file=src.uri(src.dataset(missing[0])))
    return wanted


def promote(output_uri: str, label: str, as_of: date, customers: list[str] | None = None) -> dict:
    """Swap the label's published partitions of ``as_of`` into production, keeping what they replace.

    Args:
        output_uri: The output root.
        label: The reviewed label.
        as_of: The as-of date to promote.
        customers: Only these customers (default: every customer the label published that day).

    Returns:
        The promotion's manifest (``id`` is what ``rollback`` takes).
    """
    src, prod = Store(output_uri, label=validate_label(label)), Store(output_uri)
    wanted = _label_customers(src, as_of, customers)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    pid = f"{stamp}-{uuid.uuid4().hex[:8]}"
    absent = []
    for cid in wanted:
        for name in DATASETS:
            target = _file(prod, name, as_of, cid)
            if prod.exists(target):
                prod.write_bytes_atomic(_backup_file(prod, pid, name, cid), prod.fs.cat_file(target))
            else:
                absent.append([name, cid])
    manifest = {"id": pid, "label": label, "as_of": as_of.isoformat(), "customers": wanted, "absent": absent,
                "datasets": list(DATASETS), "state": "prepared", "created_at": stamp}
    _write_manifest(prod, pid, manifest)
    for cid in wanted:
        for name in DATASETS:
            prod.write_bytes_atomic(_file(prod, name, as_of, cid), src.fs.cat_file(_file(src, name, as_of, cid)))
    manifest["state"] = "promoted"
    _write_manifest(prod, pid, manifest)
    return manifest


def promotions(output_uri: str) -> list[dict]:
    """Every promotion's manifest, oldest first."""
    prod = Store(output_uri)
    out = []
    for pid in prod.list_partitions(PROMOTIONS, "id"):
        path = _manifest_path(prod, pid)
        if prod.exists(path):
            out.append(json.loads(prod.fs.cat_file(path)))
    return sorted(out, key=lambda m: m["id"])


def rollback(output_uri: str, promotion_id: str | None = None) -> dict:
    """Put back exactly what a promotion replaced (default: the latest promotion not rolled back).

    Returns:
        The promotion's manifest, now in state ``rolled_back``.
    """
    prod = Store(output_uri)
    candidates = [m for m in promotions(output_uri) if m["state"] in ("prepared", "promoted")]
    if promotion_id:
        candidates = [m for m in candidates if m["id"] == promotion_id]
    if not candidates:
        which = f"promotion {promotion_id!r}" if promotion_id else "any promotion"
        raise TaxonomyError(f"nothing to roll back: no {which} in force", file=prod.uri(prod.dataset(PROMOTIONS)))
    manifest = candidates[-1]
    as_of, absent = date.fromisoformat(manifest["as_of"]), {tuple(a) for a in manifest["absent"]}
    for cid in manifest["customers"]:
        # Scores go first when removing (no scores row may outlive what it summarises), last when restoring.
        for name in reversed(manifest["datasets"]):
            if (name, cid) in absent:
                prod.delete_partition(prod.partition(name, as_of=as_of, customer_id=cid))
        for name in manifest["datasets"]:
            if (name, cid) not in absent:
                data = prod.fs.cat_file(_backup_file(prod, manifest["id"], name, cid))
                prod.write_bytes_atomic(_file(prod, name, as_of, cid), data)
    manifest["state"] = "rolled_back"
    _write_manifest(prod, manifest["id"], manifest)
    return manifest
