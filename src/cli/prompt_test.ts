import assert from "node:assert/strict";
import { PromptCancelledError, Prompter, type PromptInput, SecretEditor } from "./prompt.ts";

const enc = new TextEncoder();

/** A fake input delivering `chunks` one per read, then end of input. */
class FakeInput implements PromptInput {
  readonly raw: boolean[] = [];
  #chunks: Uint8Array[];
  #terminal: boolean;

  constructor(chunks: (string | Uint8Array)[], terminal: boolean) {
    this.#chunks = chunks.map((c) => typeof c === "string" ? enc.encode(c) : c);
    this.#terminal = terminal;
  }

  read(p: Uint8Array): Promise<number | null> {
    const next = this.#chunks.shift();
    if (next === undefined) return Promise.resolve(null);
    const n = Math.min(p.length, next.length);
    p.set(next.subarray(0, n));
    if (n < next.length) this.#chunks.unshift(next.subarray(n));
    return Promise.resolve(n);
  }

  isTerminal(): boolean {
    return this.#terminal;
  }

  setRaw(mode: boolean): void {
    this.raw.push(mode);
  }
}

/** Collects what the prompter writes. */
class FakeOutput {
  text = "";
  writeSync(p: Uint8Array): number {
    this.text += new TextDecoder().decode(p);
    return p.length;
  }
}

function feedAll(editor: SecretEditor, text: string) {
  return editor.feed(enc.encode(text));
}

Deno.test("SecretEditor: Enter finishes, Backspace/Delete erase, Ctrl-U clears", () => {
  const r = feedAll(new SecretEditor(), "ab\x7fc\x08d\r");
  assert.equal(r.status === "done" && r.value, "ad");
  const cleared = feedAll(new SecretEditor(), "wrong\x15right\n");
  assert.equal(cleared.status === "done" && cleared.value, "right");
});

Deno.test("SecretEditor: Backspace erases a whole multi-byte character", () => {
  const r = feedAll(new SecretEditor(), "pé€\x7f\x7fx\r");
  assert.equal(r.status === "done" && r.value, "px");
});

Deno.test("SecretEditor: keystrokes may arrive split across chunks", () => {
  const editor = new SecretEditor();
  const bytes = enc.encode("ü\x1b[Dz");
  for (const b of bytes) assert.equal(editor.feed(new Uint8Array([b])).status, "more");
  const r = editor.feed(enc.encode("\r\nnext"));
  assert.equal(r.status === "done" && r.value, "üz");
  assert.equal(r.status === "done" && new TextDecoder().decode(r.rest), "next");
});

Deno.test("SecretEditor: Ctrl-C cancels, Ctrl-D on an empty entry is end of input", () => {
  assert.equal(feedAll(new SecretEditor(), "abc\x03").status, "cancel");
  assert.equal(feedAll(new SecretEditor(), "\x04").status, "eof");
  const r = feedAll(new SecretEditor(), "a\x04b\x01\x1bOP\r");
  assert.equal(r.status === "done" && r.value, "ab");
});

Deno.test("Prompter: from a pipe every answer is the next line, questions are not printed", async () => {
  const out = new FakeOutput();
  const p = new Prompter(
    new FakeInput(["al", "ice@x.test\r\n pass word \n", "\n123456"], false),
    out,
  );
  assert.equal(p.interactive, false);
  assert.equal(await p.line("Email: "), "alice@x.test");
  assert.equal(await p.secret("Password: "), " pass word ");
  assert.equal(await p.enter("Press Enter\n"), true);
  assert.equal(await p.line("Code: "), "123456");
  assert.equal(await p.line("More: "), undefined);
  assert.equal(await p.enter("Press Enter\n"), false);
  assert.equal(out.text, "Press Enter\nPress Enter\n");
});

Deno.test("Prompter: on a terminal a secret is read in raw mode without echo", async () => {
  const out = new FakeOutput();
  const input = new FakeInput(["s3", "cr\x7fret\rextra\n"], true);
  const p = new Prompter(input, out);
  assert.equal(await p.secret("Password: "), "s3cret");
  assert.deepEqual(input.raw, [true, false]);
  assert.equal(out.text, "Password: \n");
  // What was typed after Enter is kept for the next question.
  assert.equal(await p.line("Code: "), "extra");
});

Deno.test("Prompter: Ctrl-C at a secret prompt throws and restores the terminal", async () => {
  const input = new FakeInput(["abc\x03"], true);
  const p = new Prompter(input, new FakeOutput());
  await assert.rejects(p.secret("Password: "), PromptCancelledError);
  assert.deepEqual(input.raw, [true, false]);
});

Deno.test("Prompter: end of input at a terminal secret prompt gives undefined", async () => {
  const input = new FakeInput(["abc"], true);
  const p = new Prompter(input, new FakeOutput());
  assert.equal(await p.secret("Password: "), undefined);
  assert.deepEqual(input.raw, [true, false]);
});
