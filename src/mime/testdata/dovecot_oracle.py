#!/usr/bin/env python3
"""Records what Dovecot answers for every message of the MIME torture corpus.

Not run by the tests: run it by hand when the corpus changes (needs `apt-get install dovecot-imapd`
and root), and commit the JSON it writes. It starts a throw-away Dovecot on a loopback port with its
own configuration under a temporary directory, APPENDs each corpus/*.eml in name order (so UID n is
the n-th file), FETCHes BODYSTRUCTURE, BODY, ENVELOPE, RFC822.SIZE and a fixed list of sections, and
writes dovecot_expected.json beside this script.

    python3 src/mime/testdata/dovecot_oracle.py
"""
import base64, json, os, re, shutil, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
PORT = 14399
SECTIONS = [
    "HEADER", "TEXT", "HEADER.FIELDS (From Subject)", "HEADER.FIELDS.NOT (From Subject)",
    "1", "1.MIME", "1.HEADER", "1.TEXT", "2", "2.MIME", "2.HEADER", "2.TEXT", "3", "3.MIME",
    "1.1", "1.1.MIME", "1.2", "1.1.1", "1.1.2", "2.1", "2.2", "2.1.MIME",
]

CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log
info_log_path = {d}/log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{d}/Maildir
passdb {{
  driver = static
  args = password=pass
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        self.n = 0
        self.readline()  # greeting

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def readline(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n") + 2
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def readn(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response_line(self):
        """One full response line with its literals inlined."""
        out = b""
        while True:
            line = self.readline()
            out += line
            m = re.search(rb"\{(\d+)\}\r\n$", line)
            if not m:
                return out
            out += self.readn(int(m.group(1)))

    def cmd(self, text, literal=None):
        self.n += 1
        tag = b"A%d" % self.n
        if literal is not None:
            self.s.sendall(tag + b" " + text + b" {%d}\r\n" % len(literal))
            cont = self.readline()
            assert cont.startswith(b"+"), cont
            self.s.sendall(literal + b"\r\n")
        else:
            self.s.sendall(tag + b" " + text + b"\r\n")
        lines = []
        while True:
            line = self.response_line()
            if line.startswith(tag + b" "):
                assert line.startswith(tag + b" OK"), line
                return lines
            lines.append(line)


def fetch_item(lines, name):
    """Value of one FETCH item from the single FETCH response in `lines` (raw bytes)."""
    data = b"".join(lines)
    start = data.index(b"(", data.index(b"FETCH")) + 1
    i = start
    while True:
        m = re.compile(rb"([A-Z0-9.]+(?:\[[^\]]*\](?:<\d+>)?)?) ").match(data, i)
        key = m.group(1)
        i = m.end()
        j = skip_value(data, i)
        if key.decode().upper() == name.upper():
            return data[i:j]
        if data[j:j + 1] == b")":
            raise KeyError(name)
        i = j + 1


def skip_value(data, i):
    c = data[i:i + 1]
    if c == b"(":
        depth = 0
        while True:
            c = data[i:i + 1]
            if c == b"(":
                depth += 1
                i += 1
            elif c == b")":
                depth -= 1
                i += 1
                if depth == 0:
                    return i
            elif c == b'"':
                i = skip_value(data, i)
            elif c == b"{":
                i = skip_value(data, i)
            else:
                i += 1
    if c == b'"':
        i += 1
        while data[i:i + 1] != b'"':
            i += 2 if data[i:i + 1] == b"\\" else 1
        return i + 1
    if c == b"{":
        m = re.compile(rb"\{(\d+)\}\r\n").match(data, i)
        return m.end() + int(m.group(1))
    m = re.compile(rb"[^ ()]+").match(data, i)
    return m.end()


def literal_or_string(value):
    m = re.match(rb"\{(\d+)\}\r\n", value)
    if m:
        return value[m.end():]
    if value == b"NIL":
        return None
    assert value.startswith(b'"'), value
    return re.sub(rb"\\(.)", rb"\1", value[1:-1])


def main():
    d = tempfile.mkdtemp(prefix="dovecot-oracle-")
    os.makedirs(os.path.join(d, "home"))
    os.makedirs(os.path.join(d, "Maildir"))
    os.chmod(d, 0o755)
    for sub in ("home", "Maildir"):
        shutil.chown(os.path.join(d, sub), "nobody", "nogroup")
    conf = os.path.join(d, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(d=d, port=PORT))
    subprocess.run(["dovecot", "-c", conf], check=True)
    try:
        for _ in range(50):
            try:
                c = Client(PORT)
                break
            except OSError:
                time.sleep(0.1)
        c.cmd(b"LOGIN user pass")
        c.cmd(b"SELECT INBOX")
        files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))
        for name in files:
            with open(os.path.join(CORPUS, name), "rb") as f:
                c.cmd(b'APPEND INBOX (\\Seen) "01-Jan-2023 00:00:00 +0000"', f.read())
        c.cmd(b"NOOP")
        result = {}
        for uid, name in enumerate(files, 1):
            entry = {}
            lines = c.cmd(b"UID FETCH %d (BODYSTRUCTURE BODY ENVELOPE RFC822.SIZE)" % uid)
            for item in ("BODYSTRUCTURE", "BODY", "ENVELOPE", "RFC822.SIZE"):
                entry[item] = fetch_item(lines, item).decode("latin-1")
            sections = {}
            for sec in SECTIONS:
                lines = c.cmd(b"UID FETCH %d (BODY.PEEK[%s])" % (uid, sec.encode()))
                key = "BODY[%s]" % sec
                try:
                    value = fetch_item(lines, key)
                except KeyError:
                    continue
                data = literal_or_string(value)
                sections[sec] = None if data is None else base64.b64encode(data).decode()
            entry["sections"] = sections
            result[name] = entry
        with open(os.path.join(HERE, "dovecot_expected.json"), "w") as f:
            json.dump({"dovecot": subprocess.run(["dovecot", "--version"], capture_output=True,
                                                  text=True).stdout.strip(),
                       "note": "Wire strings are latin-1 decoded bytes; sections are base64.",
                       "messages": result}, f, indent=1, sort_keys=True)
            f.write("\n")
        print("wrote", len(result), "messages")
    except BaseException:
        with open(os.path.join(d, "log"), errors="replace") as f:
            sys.stderr.write(f.read()[-3000:])
        raise
    finally:
        subprocess.run(["dovecot", "-c", conf, "stop"])
        time.sleep(0.3)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
