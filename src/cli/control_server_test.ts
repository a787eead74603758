import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CONTROL_FILE_NAME,
  ControlUnreachableError,
  newControlToken,
  readControlInfo,
  removeControlInfo,
  removeControlInfoSync,
  requestReload,
  requestStatus,
  startControlServer,
  writeControlInfo,
} from "./control_server.ts";
import type { StatusReport } from "./status_report.ts";
import { withTempDir } from "./_cli_test_utils.ts";

function report(): StatusReport {
  return {
    running: true,
    format: 1,
    version: "0.0.0",
    pid: 1,
    startedAt: "2024-01-01T00:00:00.000Z",
    uptimeSeconds: 1,
    ready: false,
    demo: false,
    dataDir: "/d",
    apiUrl: "http://x",
    logLevel: "info",
    memory: {
      rssMB: 1,
      softLimitMiB: 240,
      softLimitActive: false,
      forcedCollections: 0,
      mallocMmapThreshold: null,
    },
    listeners: {
      imap: {
        state: "listening",
        host: "127.0.0.1",
        port: 1,
        security: "none",
        connections: 0,
        reason: null,
      },
      smtp: {
        state: "listening",
        host: "127.0.0.1",
        port: 2,
        security: "none",
        connections: 0,
        reason: null,
      },
    },
    accounts: [],
    warnings: [],
  };
}

Deno.test("control server: answers the report to the token, 401 without it, 404 elsewhere", async () => {
  let calls = 0;
  const server = await startControlServer({
    status: () => {
      calls++;
      return report();
    },
  });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const info = {
      pid: 1,
      url: server.url,
      token: server.token,
      startedAt: "x",
      version: "0",
    };
    assert.deepEqual(await requestStatus(info), report());
    for (const auth of [undefined, "Bearer wrong", `Bearer ${server.token}x`, server.token]) {
      const r = await fetch(`${server.url}/v1/status`, {
        headers: auth === undefined ? {} : { authorization: auth },
      });
      assert.equal(r.status, 401);
      assert.doesNotMatch(await r.text(), new RegExp(server.token));
    }
    const r = await fetch(`${server.url}/v1/nothing`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    assert.equal(r.status, 404);
    await r.body?.cancel();
    assert.equal(calls, 1);
    await assert.rejects(
      requestStatus({ ...info, token: newControlToken() }),
      /answered HTTP 401/,
    );
  } finally {
    await server.close();
  }
});

Deno.test("control server: POST /v1/reload reloads for the token holder; 503 while starting", async () => {
  let reloads = 0;
  let ready = false;
  const server = await startControlServer({
    status: () => report(),
    reload: () => {
      if (!ready) return Promise.resolve(undefined);
      reloads++;
      return Promise.resolve({ accountsAdded: ["a@x.test"] });
    },
  });
  const info = { pid: 1, url: server.url, token: server.token, startedAt: "x", version: "0" };
  try {
    await assert.rejects(requestReload(info), /did not reload: serve is still starting/);
    ready = true;
    assert.deepEqual(await requestReload(info), { accountsAdded: ["a@x.test"] });
    const r = await fetch(`${server.url}/v1/reload`, { method: "POST" });
    assert.equal(r.status, 401);
    await r.body?.cancel();
    await assert.rejects(requestReload({ ...info, token: newControlToken() }), /wrong token/);
    assert.equal(reloads, 1);
  } finally {
    await server.close();
  }
  // Without a reload function the endpoint does not exist.
  const plain = await startControlServer({ status: () => report() });
  try {
    await assert.rejects(
      requestReload({ ...info, url: plain.url, token: plain.token }),
      /no such endpoint/,
    );
  } finally {
    await plain.close();
  }
});

Deno.test("control server: a closed endpoint is unreachable", async () => {
  const server = await startControlServer({ status: report });
  await server.close();
  const info = { pid: 1, url: server.url, token: server.token, startedAt: "x", version: "" };
  await assert.rejects(requestStatus(info, 2000), ControlUnreachableError);
});

Deno.test("control file: written 0600, read back, removed only by its owner", async () => {
  await withTempDir(async (dir) => {
    assert.equal(await readControlInfo(dir), undefined);
    const info = {
      pid: 42,
      url: "http://127.0.0.1:5555",
      token: newControlToken(),
      startedAt: "2024-01-01T00:00:00.000Z",
      version: "1.2.3",
    };
    await writeControlInfo(dir, info);
    const file = join(dir, CONTROL_FILE_NAME);
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.deepEqual(await readControlInfo(dir), info);
    await removeControlInfo(dir, { ...info, token: newControlToken() });
    assert.ok(await readControlInfo(dir));
    await removeControlInfo(dir, info);
    assert.equal(await readControlInfo(dir), undefined);
    await writeControlInfo(dir, info);
    removeControlInfoSync(dir, { ...info, pid: 43 });
    assert.ok(await readControlInfo(dir));
    removeControlInfoSync(dir, info);
    assert.equal(await readControlInfo(dir), undefined);
  });
});

Deno.test("control file: a damaged or foreign file is an error naming it", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, CONTROL_FILE_NAME);
    await Deno.writeTextFile(file, "{nope");
    await assert.rejects(readControlInfo(dir), /serve\.json is not valid JSON/);
    await Deno.writeTextFile(file, JSON.stringify({ pid: 1, url: "http://evil:1", token: "t" }));
    await assert.rejects(readControlInfo(dir), /not a bridge control file/);
  });
});
