/**
 * Python helpers that imaplib client scripts of end-to-end tests start with (see
 * `runPythonJsonArg` in `_python_json.ts`).
 *
 * @module
 */

/**
 * Python source: `A`, the script's JSON argument (`sys.argv[1]`); `q(name)`, a mailbox name as an
 * IMAP quoted string; `s(v)`, bytes (also inside tuples) decoded as Latin-1, other values as text,
 * None kept; `ok(typ, data)`, `data` when imaplib answered OK, else the script ends with an error.
 */
export const IMAPLIB_HELPERS = String.raw`
import imaplib, json, sys
A = json.loads(sys.argv[1])
def q(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
def s(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, tuple):
        return [s(x) for x in v]
    return str(v)
def ok(typ, data):
    if typ != "OK":
        raise SystemExit("command failed: %s %r" % (typ, data))
    return data
`;
