/**
 * Labels, folders and system labels (go-proton-api `label.go`; proton-api.md §1.4).
 *
 * @module
 */
import { field, list, seg } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";
import { type CreateLabelReq, type Label, LabelType, type UpdateLabelReq } from "./types.ts";

/** The label types Bridge lists, in its order: system, folder, label. */
export const BRIDGE_LABEL_TYPES: readonly number[] = [
  LabelType.System,
  LabelType.Folder,
  LabelType.Label,
];

/**
 * `GET /core/v4/labels?Type=<n>`, one request per type (the API lists one type per call), the
 * results concatenated in the order of `types`.
 */
export async function getLabels(
  client: ApiClient,
  types: number | readonly number[] = BRIDGE_LABEL_TYPES,
): Promise<Label[]> {
  const out: Label[] = [];
  for (const type of typeof types === "number" ? [types] : types) {
    const reply = await client.get("/core/v4/labels", { query: { Type: type } });
    out.push(...list<Label>(reply, "Labels"));
  }
  return out;
}

/** `POST /core/v4/labels` → the created label (Bridge uses colour `#f66`). */
export async function createLabel(client: ApiClient, req: CreateLabelReq): Promise<Label> {
  const path = "/core/v4/labels";
  return field<Label>(await client.post(path, omitEmptyParent(req)), "Label", "POST", path);
}

/** `PUT /core/v4/labels/{id}` → the updated label. */
export async function updateLabel(
  client: ApiClient,
  labelID: string,
  req: UpdateLabelReq,
): Promise<Label> {
  const path = `/core/v4/labels/${seg(labelID)}`;
  return field<Label>(await client.put(path, omitEmptyParent(req)), "Label", "PUT", path);
}

/** `DELETE /core/v4/labels/{id}`. */
export async function deleteLabel(client: ApiClient, labelID: string): Promise<void> {
  await client.delete(`/core/v4/labels/${seg(labelID)}`);
}

/** `ParentID` is omitempty on the wire. */
function omitEmptyParent<T extends { ParentID?: string }>(req: T): T {
  if (req.ParentID) return req;
  const { ParentID: _drop, ...rest } = req;
  return rest as T;
}
