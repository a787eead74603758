/**
 * Test helper: loads the MIME torture corpus and the answers Dovecot gave for it
 * (`testdata/dovecot_expected.json`, recorded by `testdata/dovecot_oracle.py`).
 *
 * @module
 */
import { toCrlf } from "./_bytes.ts";

const DIR = new URL("./testdata/", import.meta.url);

/** What Dovecot answered for one corpus message (wire strings as latin-1, sections base64). */
export interface DovecotAnswer {
  BODYSTRUCTURE: string;
  BODY: string;
  ENVELOPE: string;
  "RFC822.SIZE": string;
  sections: Record<string, string | null>;
}

/** Dovecot's answers by file name. */
export function dovecotAnswers(): Record<string, DovecotAnswer> {
  return JSON.parse(Deno.readTextFileSync(new URL("dovecot_expected.json", DIR))).messages;
}

/** Names of the corpus files, sorted. */
export function corpusNames(): string[] {
  return [...Deno.readDirSync(new URL("corpus/", DIR))]
    .map((e) => e.name)
    .filter((n) => n.endsWith(".eml"))
    .sort();
}

/**
 * One corpus message. Dovecot reports sizes as if line endings were CRLF, so comparisons with it
 * use the CRLF form ({@link toCrlf}); `raw` is the file as stored.
 */
export function corpusMessage(name: string): { raw: Uint8Array; crlf: Uint8Array } {
  const raw = Deno.readFileSync(new URL("corpus/" + name, DIR));
  return { raw, crlf: toCrlf(raw) };
}
