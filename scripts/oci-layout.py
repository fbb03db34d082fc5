#!/usr/bin/env python3
"""Writes an OCI image layout of one layer from a root file system directory, reproducibly.

oci-layout.py ROOTFS OUT --tag TAG --epoch SECONDS [--user UID:GID] [--owned PATH=UID:GID ...]
              [--entrypoint PATH] [--cmd=ARG ...]

The layer is a tar of ROOTFS in name order, every member with mtime SECONDS, owner 0:0 (or the
--owned UID:GID for PATH and below), no user or group names, gzip with no name and mtime 0; the
config's "created" is SECONDS too. The same ROOTFS and arguments give the same bytes, so the same
manifest digest. OUT gets oci-layout, index.json (the manifest tagged TAG) and blobs/sha256/.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rootfs")
    ap.add_argument("out")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--epoch", type=int, required=True)
    ap.add_argument("--user", default="0:0")
    ap.add_argument("--owned", action="append", default=[])
    ap.add_argument("--entrypoint")
    ap.add_argument("--cmd", action="append", default=[])
    ap.add_argument("--env", action="append", default=[])
    a = ap.parse_args()

    owned = []
    for o in a.owned:
        path, ids = o.split("=", 1)
        uid, gid = (int(x) for x in ids.split(":"))
        owned.append((path.strip("/"), uid, gid))

    names = []
    for dirpath, dirnames, filenames in os.walk(a.rootfs):
        dirnames.sort()
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            names.append(os.path.relpath(full, a.rootfs))
    names.sort()

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for rel in names:
            full = os.path.join(a.rootfs, rel)
            ti = tf.gettarinfo(full, arcname=rel)
            ti.mtime = a.epoch
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            for path, uid, gid in owned:
                if rel == path or rel.startswith(path + "/"):
                    ti.uid, ti.gid = uid, gid
            st = os.lstat(full)
            ti.mode = stat.S_IMODE(st.st_mode)
            ti.pax_headers = {}
            if ti.isreg():
                with open(full, "rb") as f:
                    tf.addfile(ti, f)
            else:
                tf.addfile(ti)
    layer_tar = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=gz, mode="wb", mtime=0, compresslevel=9) as g:
        g.write(layer_tar)
    layer = gz.getvalue()

    blobs = os.path.join(a.out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        return "sha256:" + d, len(data)

    def canon(obj):
        return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()

    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(a.epoch))
    cfg = {"User": a.user, "Env": a.env, "WorkingDir": "/"}
    if a.entrypoint:
        cfg["Entrypoint"] = [a.entrypoint]
    if a.cmd:
        cfg["Cmd"] = a.cmd
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": cfg,
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]},
        "history": [{"created": created, "created_by": "scripts/oci-layout.py"}],
    }
    cd, cs = put(canon(config))
    ld, ls = put(layer)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd,
                   "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld,
                    "size": ls}],
    }
    md, ms = put(canon(manifest))
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": md, "size": ms,
                            "annotations": {"org.opencontainers.image.ref.name": a.tag}}]}
    with open(os.path.join(a.out, "index.json"), "wb") as f:
        f.write(canon(index))
    with open(os.path.join(a.out, "oci-layout"), "wb") as f:
        f.write(canon({"imageLayoutVersion": "1.0.0"}))
    print(md)


if __name__ == "__main__":
    sys.exit(main())
