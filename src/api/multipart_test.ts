import assert from "node:assert/strict";
import { encodeMultipart } from "./multipart.ts";

const dec = new TextDecoder();

Deno.test("encodeMultipart: exact bytes of fields and files", () => {
  const { body, contentType } = encodeMultipart([
    { name: "MessageID", value: "abc" },
    {
      name: "KeyPackets",
      filename: "blob",
      contentType: "application/octet-stream",
      data: new Uint8Array([0xc1, 0x00, 0xff]),
    },
  ], "XyZ");
  assert.equal(contentType, "multipart/form-data; boundary=XyZ");
  const expected = [
    ...new TextEncoder().encode(
      '--XyZ\r\nContent-Disposition: form-data; name="MessageID"\r\n\r\nabc\r\n' +
        '--XyZ\r\nContent-Disposition: form-data; name="KeyPackets"; filename="blob"\r\n' +
        "Content-Type: application/octet-stream\r\n\r\n",
    ),
    0xc1,
    0x00,
    0xff,
    ...new TextEncoder().encode("\r\n--XyZ--\r\n"),
  ];
  assert.deepEqual([...body], expected);
});

Deno.test("encodeMultipart: round-trips through a standard form-data parser", async () => {
  const binary = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff);
  const { body, contentType } = encodeMultipart([
    { name: "Filename", value: "Übersicht – 報告.pdf" },
    { name: "Disposition", value: "attachment" },
    { name: "DataPacket", filename: "blob", contentType: "application/octet-stream", data: binary },
    { name: "Metadata", filename: "0.eml", contentType: "message/rfc822", data: new Uint8Array() },
  ]);
  const form = await new Response(body, { headers: { "Content-Type": contentType } }).formData();
  assert.equal(form.get("Filename"), "Übersicht – 報告.pdf");
  assert.equal(form.get("Disposition"), "attachment");
  const file = form.get("DataPacket") as File;
  assert.equal(file.name, "blob");
  assert.equal(file.type, "application/octet-stream");
  assert.deepEqual(new Uint8Array(await file.arrayBuffer()), binary);
  assert.equal((form.get("Metadata") as File).size, 0);
});

Deno.test("encodeMultipart: quotes and line breaks in names are escaped", () => {
  const { body } = encodeMultipart([{ name: 'a"b\r\nc', value: "v" }], "B");
  assert.match(dec.decode(body), /name="a%22b%0D%0Ac"/);
});

Deno.test("encodeMultipart: a boundary found in the data is replaced (random) or refused (given)", () => {
  const data = new TextEncoder().encode("x\r\n--fixed\r\ny");
  assert.throws(
    () => encodeMultipart([{ name: "f", filename: "f", contentType: "text/plain", data }], "fixed"),
    RangeError,
  );
  assert.throws(() => encodeMultipart([], "bad boundary!"), RangeError);
  const { contentType } = encodeMultipart([{ name: "f", value: "--x" }]);
  assert.match(contentType, /^multipart\/form-data; boundary=----BridgeFormBoundary[0-9a-f]{24}$/);
});

Deno.test("encodeMultipart: an empty form is just the closing delimiter", () => {
  assert.equal(dec.decode(encodeMultipart([], "E").body), "--E--\r\n");
});

Deno.test("encodeMultipart: a text field with a content type (the import Metadata part)", async () => {
  const { body, contentType } = encodeMultipart([
    { name: "Metadata", value: '{"0":{}}', contentType: "application/json" },
  ], "M");
  assert.equal(
    dec.decode(body),
    '--M\r\nContent-Disposition: form-data; name="Metadata"\r\nContent-Type: application/json' +
      '\r\n\r\n{"0":{}}\r\n--M--\r\n',
  );
  const form = await new Response(body, { headers: { "Content-Type": contentType } }).formData();
  assert.equal(form.get("Metadata"), '{"0":{}}');
});
