import assert from "node:assert/strict";
import { decodeSaslResponse, encodeChallenge, parsePlain, SaslSyntaxError } from "./sasl.ts";

const enc = new TextEncoder();

Deno.test("sasl: base64 responses", () => {
  assert.deepEqual(decodeSaslResponse("="), new Uint8Array(0));
  assert.deepEqual(decodeSaslResponse(""), new Uint8Array(0));
  assert.deepEqual(decodeSaslResponse("YWI="), enc.encode("ab"));
  for (const bad of ["YWI", "YW I=", "Y!I=", "YWI==="]) {
    assert.throws(() => decodeSaslResponse(bad), SaslSyntaxError, bad);
  }
  assert.equal(encodeChallenge("Username:"), "VXNlcm5hbWU6");
});

Deno.test("sasl: PLAIN", () => {
  assert.deepEqual(parsePlain(enc.encode("\0u@x\0p w")), {
    authzid: "",
    username: "u@x",
    password: "p w",
  });
  assert.deepEqual(parsePlain(enc.encode("u@x\0u@x\0\u00fc")), {
    authzid: "u@x",
    username: "u@x",
    password: "\u00fc",
  });
  assert.equal(parsePlain(enc.encode("\0u\0")).password, "");
  for (const bad of ["u\0p", "\0\0p", "a\0b\0c\0d"]) {
    assert.throws(() => parsePlain(enc.encode(bad)), SaslSyntaxError, JSON.stringify(bad));
  }
  assert.throws(() => parsePlain(new Uint8Array([0, 0xff, 0, 0x41])), SaslSyntaxError);
});
