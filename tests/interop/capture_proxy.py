"""Recording TCP proxy for plain (non-TLS) MySQL sessions, and the splitter that turns the
recordings into fuzz seeds. Used by hand (see docs/assurance.md), not by the test suite.

  capture_proxy.py proxy --target 127.0.0.1:PORT --out DIR --name NAME [--listen-port 0]
      Listens on 127.0.0.1 (the chosen port is printed as "listening on PORT"), forwards every
      connection to the server and writes each connection's client->server byte stream to
      DIR/NAME.<n>.c2s and the server->client stream to DIR/NAME.<n>.s2c (n counts from 0).
      Runs until killed.

  capture_proxy.py seeds --corpus fuzz/corpus DIR/NAME.<n>.c2s ...
      Splits each recorded client stream into MySQL packets and writes seed files named after the
      recording (NAME, or NAME_<n> for n > 0):
        frame/NAME_stream            0xFF (payload limit 255*64 bytes, see fuzz_frames) + stream
        client_packets/NAME_login    the first client payload (HandshakeResponse41 / SSLRequest)
        client_packets/NAME_auth_<k> later connection-phase client payloads (auth data)
        command/NAME_<what>          capability byte (see fuzz_command) + each command payload
        sql/NAME_<what>              each COM_QUERY text
      Identical contents already in the target folder are not written twice.
"""

import argparse
import os
import re
import socket
import sys
import threading

# Capability bits (docs/protocol.md, "Capability and status flags") and the fuzz_command flag
# byte built from them.
CLIENT_CONNECT_WITH_DB = 0x0000_0008
CLIENT_SECURE_CONNECTION = 0x0000_8000
CLIENT_PLUGIN_AUTH = 0x0008_0000
CLIENT_CONNECT_ATTRS = 0x0010_0000

COMMANDS = {
    0x01: "quit",
    0x02: "init_db",
    0x03: "query",
    0x0E: "ping",
    0x11: "change_user",
    0x1F: "reset_connection",
}


# ----------------------------------------------------------------------------------------------
# proxy
# ----------------------------------------------------------------------------------------------


def pump(src, dst, log):
    """Copies src to dst, appending every chunk to log, until either side closes."""
    try:
        while True:
            chunk = src.recv(65536)
            if not chunk:
                break
            log.write(chunk)
            log.flush()
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(a):
    host, port = a.target.rsplit(":", 1)
    os.makedirs(a.out, exist_ok=True)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", a.listen_port))
    lsock.listen(16)
    print(f"listening on {lsock.getsockname()[1]}", flush=True)
    n = 0
    while True:
        client, _ = lsock.accept()
        server = socket.create_connection((host, int(port)))
        base = os.path.join(a.out, f"{a.name}.{n}")
        n += 1
        c2s = open(base + ".c2s", "wb")
        s2c = open(base + ".s2c", "wb")
        for src, dst, log in ((client, server, c2s), (server, client, s2c)):
            threading.Thread(target=pump, args=(src, dst, log), daemon=True).start()


# ----------------------------------------------------------------------------------------------
# seeds
# ----------------------------------------------------------------------------------------------


def packets(stream):
    """(seq, payload) of each logical packet; payloads split at 0xFFFFFF are joined."""
    out, pos, pending = [], 0, None
    while pos + 4 <= len(stream):
        length = int.from_bytes(stream[pos : pos + 3], "little")
        seq = stream[pos + 3]
        body = stream[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if pending is None:
            pending = (seq, body)
        else:
            pending = (pending[0], pending[1] + body)
        if length < 0xFFFFFF:
            out.append(pending)
            pending = None
    return out


def command_flag_byte(caps):
    return (
        (1 if caps & CLIENT_SECURE_CONNECTION else 0)
        | (2 if caps & CLIENT_PLUGIN_AUTH else 0)
        | (4 if caps & CLIENT_CONNECT_ATTRS else 0)
    )


def slug(text, limit=40):
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return s[:limit].rstrip("_") or "empty"


class Writer:
    def __init__(self, corpus):
        self.corpus = corpus
        self.seen = {}
        self.written = []

    def put(self, target, name, data):
        folder = os.path.join(self.corpus, target)
        os.makedirs(folder, exist_ok=True)
        if target not in self.seen:
            self.seen[target] = set()
            for f in os.listdir(folder):
                with open(os.path.join(folder, f), "rb") as fh:
                    self.seen[target].add(fh.read())
        if data in self.seen[target]:
            return
        path = os.path.join(folder, name)
        k = 2
        while os.path.exists(path):
            path = os.path.join(folder, f"{name}_{k}")
            k += 1
        with open(path, "wb") as fh:
            fh.write(data)
        self.seen[target].add(data)
        self.written.append(os.path.relpath(path, self.corpus))


def seeds(a):
    w = Writer(a.corpus)
    for path in a.streams:
        base = os.path.basename(path)
        m = re.fullmatch(r"(.+)\.(\d+)\.c2s", base)
        if not m:
            sys.exit(f"{path}: expected NAME.<n>.c2s")
        name = m.group(1) if m.group(2) == "0" else f"{m.group(1)}_{m.group(2)}"
        with open(path, "rb") as fh:
            stream = fh.read()
        if not stream:
            continue
        w.put("frame", f"{name}_stream", b"\xff" + stream)
        pkts = packets(stream)
        caps = 0
        in_command_phase = False
        auth_k = 0
        for i, (seq, payload) in enumerate(pkts):
            if i == 0:
                if len(payload) >= 4:
                    caps = int.from_bytes(payload[:4], "little")
                w.put("client_packets", f"{name}_login", payload)
                continue
            if seq == 0:
                in_command_phase = True
            if not in_command_phase:
                auth_k += 1
                w.put("client_packets", f"{name}_auth_{auth_k}", payload)
                continue
            if seq != 0:
                # Auth data answering a COM_CHANGE_USER: not a command.
                w.put("client_packets", f"{name}_change_user_auth", payload)
                continue
            code = payload[0] if payload else None
            what = COMMANDS.get(code, f"com_{code:02x}" if code is not None else "empty")
            if code == 0x03:
                text = payload[1:]
                what = slug(text.decode("utf-8", "replace"))
                w.put("sql", f"{name}_{what}", text)
            w.put("command", f"{name}_{what}", bytes([command_flag_byte(caps)]) + payload)
    for f in w.written:
        print(f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pr = sub.add_parser("proxy")
    pr.add_argument("--target", required=True, help="server HOST:PORT")
    pr.add_argument("--out", required=True, help="folder for the recordings")
    pr.add_argument("--name", required=True, help="recording name (the client and scenario)")
    pr.add_argument("--listen-port", type=int, default=0)
    sd = sub.add_parser("seeds")
    sd.add_argument("--corpus", required=True, help="fuzz/corpus")
    sd.add_argument("streams", nargs="+", help="NAME.<n>.c2s recordings")
    a = p.parse_args()
    if a.cmd == "proxy":
        serve(a)
    else:
        seeds(a)


if __name__ == "__main__":
    main()
