import assert from "node:assert/strict";
import { formatAddress, formatAddressList, parseAddresses, parseAddressList } from "./address.ts";

Deno.test("parseAddressList() reads names, routes, groups and comments", () => {
  assert.deepEqual(parseAddressList('"Quoted \\"N\\"" <a@b.c>, plain@x.y'), [
    { name: 'Quoted "N"', adl: null, mailbox: "a", host: "b.c" },
    { name: null, adl: null, mailbox: "plain", host: "x.y" },
  ]);
  assert.deepEqual(parseAddressList("<@r1,@r2:u@h>"), [{
    name: null,
    adl: "@r1,@r2",
    mailbox: "u",
    host: "h",
  }]);
  assert.deepEqual(parseAddressList("u@h (The Name)"), [{
    name: "The Name",
    adl: null,
    mailbox: "u",
    host: "h",
  }]);
  assert.deepEqual(parseAddressList("G: a@b;"), [
    { name: null, adl: null, mailbox: "G", host: null },
    { name: null, adl: null, mailbox: "a", host: "b" },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
  assert.deepEqual(parseAddressList("=?utf-8?q?J=C3=BC?= Doe <j@d>"), [
    { name: "=?utf-8?q?J=C3=BC?= Doe", adl: null, mailbox: "j", host: "d" },
  ]);
});

Deno.test("parseAddressList() marks what is missing and stops at syntax errors", () => {
  assert.deepEqual(parseAddressList("nodomain"), [{
    name: null,
    adl: null,
    mailbox: "nodomain",
    host: "MISSING_DOMAIN",
  }]);
  assert.deepEqual(parseAddressList("x <<>>, last@x.y"), [
    { name: "x", adl: null, mailbox: "MISSING_MAILBOX", host: "SYNTAX_ERROR" },
  ]);
  assert.deepEqual(parseAddressList(""), []);
  assert.deepEqual(parseAddressList(" , ,"), []);
  for (
    const junk of ["<", ">", "@", ":", ";", '"', "(", "[", "a@", "@b", "<a@b", "g:", "\x00\xff"]
  ) {
    parseAddressList(junk);
  }
});

Deno.test("parseAddresses() decodes names and flattens groups", () => {
  assert.deepEqual(parseAddresses("=?iso-8859-1?q?Andr=E9?= <a@b.c>, G: x@y.z;, bad"), [
    { name: "André", address: "a@b.c" },
    { name: "", address: "x@y.z" },
  ]);
});

Deno.test("formatAddress() matches Go's net/mail Address.String", () => {
  assert.equal(formatAddress({ name: "", address: "a@b.c" }), "<a@b.c>");
  assert.equal(
    formatAddress({ name: "Alice Example", address: "alice@example.com" }),
    '"Alice Example" <alice@example.com>',
  );
  assert.equal(formatAddress({ name: 'Q "x" \\', address: "a@b" }), '"Q \\"x\\" \\\\" <a@b>');
  assert.equal(formatAddress({ name: "Zoë", address: "z@x.y" }), "=?utf-8?q?Zo=C3=AB?= <z@x.y>");
  assert.equal(
    formatAddress({ name: "Müller, Jürgen", address: "j@x.y" }),
    "=?utf-8?b?TcO8bGxlciwgSsO8cmdlbg==?= <j@x.y>",
  );
  assert.equal(formatAddress({ name: "", address: "john doe@x.y" }), '<"john doe"@x.y>');
  assert.equal(formatAddress({ name: "", address: "a..b@x.y" }), '<"a..b"@x.y>');
  assert.equal(formatAddress({ name: "", address: "noat" }), "<noat@>");
  assert.equal(
    formatAddressList([{ name: "A", address: "a@x" }, { address: "b@x" }]),
    '"A" <a@x>, <b@x>',
  );
});
