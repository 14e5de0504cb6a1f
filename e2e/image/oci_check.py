#!/usr/bin/env python3
"""Checks for e2e/image/build.sh, standard library only (no umoci, no container engine).

  oci_check.py static ELF
      fails unless ELF is statically linked: no PT_INTERP (no dynamic loader) and no
      DT_NEEDED entry (no shared library). A static-pie binary has a PT_DYNAMIC segment for
      its own relocations, so "has PT_DYNAMIC" alone would be the wrong test.

  oci_check.py layout LAYOUT REF VERSION UNPACK_DIR [ARCHIVE]
      reads the OCI image layout LAYOUT (index.json -> manifest -> config and layer), verifies
      the sha256 digest and size of every blob, asserts the image's contract (see EXPECTED
      and check_config), unpacks the single layer into UNPACK_DIR and, given ARCHIVE, checks
      that the oci-archive tarball holds the same layout.

One line per passed check on stdout; the first failed check exits 1 with `FAIL: ...`.
"""

import gzip
import hashlib
import io
import json
import os
import stat
import struct
import sys
import tarfile

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
UID = GID = 65532

# path in the layer -> (type, mode, uid, gid). Nothing else may be in the layer: no libc, no
# shell, no CA bundle. The root entry "." is the layer's own directory and is not a file.
EXPECTED = {
    "webshell": ("file", 0o755, 0, 0),
    "etc": ("dir", 0o755, 0, 0),
    "etc/passwd": ("file", 0o644, 0, 0),
    "etc/group": ("file", 0o644, 0, 0),
    "tmp": ("dir", 0o1777, 0, 0),
}
LABELS = ("title", "version", "source", "licenses")


def ok(message):
    print(f"ok: {message}", flush=True)


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def check(condition, message, detail=""):
    if not condition:
        fail(f"{message}{': ' + detail if detail else ''}")


# --- static -----------------------------------------------------------------------------------

PT_DYNAMIC, PT_INTERP, DT_NULL, DT_NEEDED = 2, 3, 0, 1


def elf_linkage(path):
    """(interpreter or None, number of DT_NEEDED entries, e_type) of a little-endian ELF64."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:4] == b"\x7fELF", f"{path} is not an ELF file")
    check(data[4] == 2 and data[5] == 1, f"{path} is not a little-endian ELF64 file")
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    check(e_machine == 62, f"{path} is not x86-64", f"e_machine={e_machine}")
    e_phoff, = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    interp, needed = None, 0
    for i in range(e_phnum):
        p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == PT_INTERP:
            interp = data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
        elif p_type == PT_DYNAMIC:
            for off in range(p_offset, p_offset + p_filesz, 16):
                d_tag, _ = struct.unpack_from("<qQ", data, off)
                if d_tag == DT_NULL:
                    break
                needed += d_tag == DT_NEEDED
    return interp, needed, e_type


def static(path):
    interp, needed, e_type = elf_linkage(path)
    check(interp is None, f"{path} is dynamically linked", f"program interpreter {interp}")
    check(needed == 0, f"{path} is dynamically linked", f"{needed} DT_NEEDED libraries")
    kind = "static-pie" if e_type == 3 else "static"
    ok(f"{os.path.basename(path)} is statically linked ({kind}: no PT_INTERP, no DT_NEEDED)")


# --- layout -----------------------------------------------------------------------------------

class Layout:
    def __init__(self, root):
        self.root = root

    def blob(self, descriptor, media_type):
        """The verified bytes of the blob a descriptor points at."""
        check(descriptor.get("mediaType") == media_type, "unexpected media type",
              f"{descriptor.get('mediaType')} (want {media_type})")
        algo, _, hexdigest = descriptor["digest"].partition(":")
        check(algo == "sha256", "unexpected digest algorithm", descriptor["digest"])
        path = os.path.join(self.root, "blobs", "sha256", hexdigest)
        check(os.path.isfile(path), "missing blob", descriptor["digest"])
        with open(path, "rb") as f:
            data = f.read()
        check(len(data) == descriptor["size"], "blob size differs from its descriptor",
              f"{descriptor['digest']}: {len(data)} != {descriptor['size']}")
        check(hashlib.sha256(data).hexdigest() == hexdigest, "blob digest mismatch",
              descriptor["digest"])
        return data


def read_json(path):
    with open(path, "rb") as f:
        return json.load(f)


def check_all_blobs(root):
    """Every file under blobs/ hashes to its name (also the ones nothing refers to)."""
    blobs = os.path.join(root, "blobs", "sha256")
    names = sorted(os.listdir(blobs))
    for name in names:
        h = hashlib.sha256()
        with open(os.path.join(blobs, name), "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        check(h.hexdigest() == name, "blob content does not match its name", f"sha256:{name}")
    ok(f"all {len(names)} blobs match their sha256 names")
    return set(names)


def check_config(config, version):
    check(config.get("os") == "linux" and config.get("architecture") == "amd64",
          "platform is not linux/amd64", f"{config.get('os')}/{config.get('architecture')}")
    ok("platform linux/amd64")
    c = config.get("config", {})
    user = c.get("User", "")
    check(user == f"{UID}:{GID}", "User is not 65532:65532", repr(user))
    ok(f"user {user} (non-root)")
    check(c.get("Entrypoint") == ["/webshell"], "Entrypoint is not [\"/webshell\"]",
          repr(c.get("Entrypoint")))
    check(not c.get("Cmd"), "Cmd is set", repr(c.get("Cmd")))
    ok("entrypoint [\"/webshell\"], no Cmd")
    ports = sorted(c.get("ExposedPorts") or {})
    check("8080/tcp" in ports, "8080/tcp is not exposed", repr(ports))
    ok(f"exposed ports {' '.join(ports)}")
    check(c.get("WorkingDir") == "/", "WorkingDir is not /", repr(c.get("WorkingDir")))
    ok("working dir /")
    labels = c.get("Labels") or {}
    for name in LABELS:
        check(labels.get(f"org.opencontainers.image.{name}"), f"label {name} missing")
    check(labels["org.opencontainers.image.version"] == version, "version label",
          f"{labels['org.opencontainers.image.version']} != {version}")
    ok("labels " + " ".join(f"{n}={labels['org.opencontainers.image.' + n]}" for n in LABELS))


def kind(member):
    if member.isfile():
        return "file"
    if member.isdir():
        return "dir"
    return "symlink" if member.issym() else f"tar type {member.type!r}"


def check_layer(tar_bytes, unpack_dir):
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        members = tar.getmembers()
        found = {}
        for m in members:
            name = m.name.removeprefix("./").removeprefix("/").rstrip("/")
            check(".." not in name.split("/"), "path escapes the layer", m.name)
            if name in ("", "."):
                check(m.isdir(), "layer root is not a directory")
                continue
            check(name not in found, "path twice in the layer", name)
            found[name] = (kind(m), stat.S_IMODE(m.mode), m.uid, m.gid)
        check(set(found) == set(EXPECTED), "layer contents differ",
              f"unexpected {sorted(set(found) - set(EXPECTED))}, "
              f"missing {sorted(set(EXPECTED) - set(found))}")
        ok(f"layer holds exactly: {' '.join('/' + p for p in sorted(found))}")
        for path, want in EXPECTED.items():
            got = found[path]
            check(got == want, f"/{path} type/mode/owner",
                  f"{got[0]} {got[1]:o} {got[2]}:{got[3]} (want {want[0]} {want[1]:o} "
                  f"{want[2]}:{want[3]})")
        ok("modes: /webshell 0755 root:root (read-only to uid 65532), /tmp 1777, /etc/* 0644")
        passwd = tar.extractfile(tar.getmember(next(m.name for m in members
                                                    if m.name.endswith("etc/passwd"))))
        group = tar.extractfile(tar.getmember(next(m.name for m in members
                                                   if m.name.endswith("etc/group"))))
        passwd_lines = passwd.read().decode().splitlines()
        group_lines = group.read().decode().splitlines()
        check(any(line.split(":")[:4] == ["nonroot", "x", str(UID), str(GID)]
                  for line in passwd_lines), "/etc/passwd has no nonroot 65532 line")
        check(any(line.split(":")[:3] == ["nonroot", "x", str(GID)]
                  for line in group_lines), "/etc/group has no nonroot 65532 line")
        ok("/etc/passwd and /etc/group name uid/gid 65532 nonroot")
        os.makedirs(unpack_dir, exist_ok=True)
        # Plain extraction as root: numeric owners and modes (1777 included) as in the layer.
        # The member list was checked above, so no filter is needed for safety.
        extra = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
        tar.extractall(unpack_dir, numeric_owner=True, **extra)
    ok(f"layer unpacked into {unpack_dir}")


def check_archive(archive, root, blob_names):
    with tarfile.open(archive) as tar:
        names = {m.name.removeprefix("./") for m in tar.getmembers() if m.isfile()}
        want = {"oci-layout", "index.json"} | {f"blobs/sha256/{b}" for b in blob_names}
        check(names == want, "oci-archive does not hold the layout",
              f"extra {sorted(names - want)}, missing {sorted(want - names)}")
        index = tar.extractfile(next(m for m in tar.getmembers()
                                     if m.name.removeprefix("./") == "index.json")).read()
    with open(os.path.join(root, "index.json"), "rb") as f:
        check(index == f.read(), "oci-archive index.json differs from the layout's")
    ok(f"{os.path.basename(archive)} holds the same layout ({os.path.getsize(archive)} bytes)")


def layout(root, ref, version, unpack_dir, archive=None):
    check(read_json(os.path.join(root, "oci-layout")).get("imageLayoutVersion") == "1.0.0",
          "oci-layout is not version 1.0.0")
    blob_names = check_all_blobs(root)
    index = read_json(os.path.join(root, "index.json"))
    check(index.get("schemaVersion") == 2, "index.json schemaVersion is not 2")
    matches = [d for d in index.get("manifests", [])
               if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref]
    check(len(matches) == 1, f"index.json has no single manifest tagged {ref}",
          repr([d.get("annotations") for d in index.get("manifests", [])]))
    store = Layout(root)
    manifest = json.loads(store.blob(matches[0], MANIFEST))
    check(manifest.get("schemaVersion") == 2, "manifest schemaVersion is not 2")
    ok(f"index.json -> {ref} -> manifest {matches[0]['digest'][:19]} (digest verified)")
    config = json.loads(store.blob(manifest["config"], CONFIG))
    ok(f"config {manifest['config']['digest'][:19]} (digest verified)")
    check_config(config, version)
    layers = manifest.get("layers", [])
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    check(len(layers) == 1 and len(diff_ids) == 1, "image does not have exactly one layer",
          f"{len(layers)} layers, {len(diff_ids)} diff_ids")
    compressed = store.blob(layers[0], LAYER)
    tar_bytes = gzip.decompress(compressed)
    check(f"sha256:{hashlib.sha256(tar_bytes).hexdigest()}" == diff_ids[0],
          "layer diff_id does not match its uncompressed content", diff_ids[0])
    ok(f"exactly one layer {layers[0]['digest'][:19]}: {len(compressed)} bytes gzip, "
       f"{len(tar_bytes)} bytes tar (digest and diff_id verified)")
    referenced = {d["digest"].split(":", 1)[1] for d in [matches[0], manifest["config"], layers[0]]}
    check(blob_names == referenced or len(index["manifests"]) > 1,
          "layout holds unreferenced blobs (umoci gc not run?)",
          repr(sorted(blob_names - referenced)))
    check_layer(tar_bytes, unpack_dir)
    if archive:
        check_archive(archive, root, blob_names)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "static":
        static(sys.argv[2])
    elif len(sys.argv) in (6, 7) and sys.argv[1] == "layout":
        layout(*sys.argv[2:])
    else:
        sys.exit(__doc__)
