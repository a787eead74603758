import assert from "node:assert/strict";
import { defaultConfig } from "../config/mod.ts";
import { formatMailClientSettings, mailClientSettings } from "./account_settings.ts";

const account = { email: "alice@example.test", bridgePassword: "NdtrCDro3raEm5dmrgHA-w" };

Deno.test("mailClientSettings: config listeners with the account's address and bridge password", () => {
  const config = defaultConfig({ os: "linux", env: { HOME: "/nonexistent" }, version: "0.1.0" });
  config.smtp.port = 1465;
  config.smtp.security = "ssl";
  const s = mailClientSettings(config, account);
  assert.equal(
    JSON.stringify(s),
    JSON.stringify({
      imap: {
        host: "127.0.0.1",
        port: 1143,
        security: "starttls",
        username: "alice@example.test",
        password: "NdtrCDro3raEm5dmrgHA-w",
      },
      smtp: {
        host: "127.0.0.1",
        port: 1465,
        security: "ssl",
        username: "alice@example.test",
        password: "NdtrCDro3raEm5dmrgHA-w",
      },
    }),
  );
});

Deno.test("mailClientSettings: a wildcard listen address is shown as loopback", () => {
  const config = defaultConfig({ os: "linux", env: { HOME: "/nonexistent" }, version: "0.1.0" });
  config.imap.host = "0.0.0.0";
  config.smtp.host = "::";
  const s = mailClientSettings(config, account);
  assert.equal(s.imap.host, "127.0.0.1");
  assert.equal(s.smtp.host, "127.0.0.1");
  config.imap.host = "192.0.2.7";
  assert.equal(mailClientSettings(config, account).imap.host, "192.0.2.7");
});

Deno.test("formatMailClientSettings: one readable block per server", () => {
  const config = defaultConfig({ os: "linux", env: { HOME: "/nonexistent" }, version: "0.1.0" });
  const text = formatMailClientSettings(mailClientSettings(config, account));
  assert.match(text, /^IMAP\n {2}Host: +127\.0\.0\.1\n {2}Port: +1143\n {2}Security: +STARTTLS\n/);
  assert.match(text, /\n\nSMTP\n {2}Host: +127\.0\.0\.1\n {2}Port: +1025\n/);
  assert.equal(text.split("NdtrCDro3raEm5dmrgHA-w").length, 3);
});
