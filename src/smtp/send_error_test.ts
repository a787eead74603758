import assert from "node:assert/strict";
import {
  ApiError,
  HumanVerificationRequiredError,
  NetworkError,
  SignedOutError,
} from "../api/errors.ts";
import { SendPackageError } from "../api/send_packages.ts";
import { CryptoError } from "../crypto/errors.ts";
import { RecipientSchemeError } from "./recipient_scheme.ts";
import { isApiRefusal, toSubmissionError } from "./send_error.ts";
import { SubmissionError } from "./submission.ts";

function reply(e: unknown): string {
  const s = toSubmissionError(e, "send the message");
  assert.ok(s instanceof SubmissionError, String(s));
  return `${s.code} ${s.enhanced} ${s.message}`;
}

Deno.test("toSubmissionError maps every failure to a code, an enhanced status and a reason", () => {
  assert.match(
    reply(new ApiError(422, 2001, "Recipient address is invalid")),
    /^554 5\.0\.0 the mail server refused to send the message: Recipient address is invalid$/,
  );
  assert.match(
    reply(new ApiError(503, 0, "Service Unavailable")),
    /^451 4\.3\.0 .*HTTP 503.*try again/,
  );
  assert.match(reply(new ApiError(429, 0, "Too Many Requests")), /^451 4\.3\.0/);
  assert.match(reply(new NetworkError("connection refused")), /^451 4\.4\.1 cannot reach/);
  assert.match(reply(new SignedOutError()), /^451 4\.7\.0 the account is signed out/);
  assert.match(
    reply(
      new HumanVerificationRequiredError(422, "verify", {
        HumanVerificationMethods: [],
        HumanVerificationToken: "t",
      }),
    ),
    /^451 4\.7\.0 .*human verification/,
  );
  assert.match(
    reply(new RecipientSchemeError("r@x.test", "no key")),
    /^554 5\.7\.0 cannot send to r@x\.test: no key$/,
  );
  assert.match(
    reply(new SendPackageError("", "no recipients")),
    /^554 5\.7\.0 cannot send: no recipients$/,
  );
  assert.match(
    reply(new CryptoError("no-key", "Key cannot encrypt")),
    /^554 5\.7\.0 .*encryption failed/,
  );
  const own = new SubmissionError("x", { code: 550, enhanced: "5.7.1" });
  assert.equal(toSubmissionError(own, "send"), own);
  const other = new TypeError("bug");
  assert.equal(toSubmissionError(other, "send"), other);
});

Deno.test("isApiRefusal: final 4xx only", () => {
  assert.equal(isApiRefusal(new ApiError(422, 2001, "x")), true);
  assert.equal(isApiRefusal(new ApiError(429, 0, "x")), false);
  assert.equal(isApiRefusal(new ApiError(408, 0, "x")), false);
  assert.equal(isApiRefusal(new ApiError(500, 0, "x")), false);
  assert.equal(isApiRefusal(new NetworkError("x")), false);
});
