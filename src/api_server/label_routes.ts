/**
 * Labels and folders (proton-api.md §1.4):
 *
 * ```
 * GET    /core/v4/labels?Type=3                 → {"Labels": [Label]}   (one type per request)
 * POST   /core/v4/labels {Name, Color, Type, ParentID?}     → {"Label": Label}
 * PUT    /core/v4/labels/{id} {Name, Color, ParentID?}      → {"Label": Label}
 * DELETE /core/v4/labels/{id}                   → {"Code": 1000}
 * ```
 *
 * A missing or invalid `Type` answers 400 Code 2001. Creating or renaming into a name a sibling of
 * the same type already has answers 422 Code 2500; unknown labels or parents 422 Code 2501; system
 * labels cannot be changed (422 Code 2001).
 *
 * @module
 */
import { ApiServerError, ok, type Router } from "./http.ts";
import type { MailBackend } from "./mail_backend.ts";
import { ErrorCode } from "../api/types.ts";
import type { CreateLabelReq, UpdateLabelReq } from "../api/types.ts";

/** Registers the label routes (authenticated). */
export function registerLabelRoutes(router: Router, mail: MailBackend): void {
  router.add("GET", "/core/v4/labels", (req) => {
    const types = req.url.searchParams.getAll("Type");
    const type = types.length === 1 && /^[1-4]$/.test(types[0]) ? Number(types[0]) : undefined;
    if (type === undefined) {
      throw new ApiServerError(400, ErrorCode.InvalidValue, "Type must be one of 1, 2, 3 or 4");
    }
    return ok({ Labels: mail.listLabels(req.userID, type) });
  });

  router.add("POST", "/core/v4/labels", async (req) => {
    const body = await req.json<Partial<CreateLabelReq>>();
    return ok({ Label: mail.createLabel(req.userID, body) });
  });

  router.add("PUT", "/core/v4/labels/:id", async (req) => {
    const body = await req.json<Partial<UpdateLabelReq>>();
    return ok({ Label: mail.updateLabel(req.userID, req.params.id, body) });
  });

  router.add("DELETE", "/core/v4/labels/:id", (req) => {
    mail.deleteLabel(req.userID, req.params.id);
    return ok();
  });
}
