/**
 * Entry point of the mail half of the reference server: every API route it owns (labels,
 * messages, drafts, send, import, attachments, events) and its `/ref/v1/` controls.
 *
 * @module
 */
import type { Router } from "./http.ts";
import type { MailBackend } from "./mail_backend.ts";
import { registerLabelRoutes } from "./label_routes.ts";
import { registerMessageRoutes } from "./message_routes.ts";
import { registerAttachmentRoutes } from "./attachment_routes.ts";
import { registerEventRoutes } from "./event_routes.ts";
import { registerSendRoutes } from "./send_routes.ts";

export { registerMailControlRoutes } from "./mail_control_routes.ts";

/** Registers the mail API routes (labels, messages, drafts, send, import, attachments, events). */
export function registerMailRoutes(router: Router, mail: MailBackend): void {
  registerLabelRoutes(router, mail);
  registerMessageRoutes(router, mail);
  // After the message routes: their literal paths (`/read`, `/label`…) must win over `:id`.
  registerSendRoutes(router, mail);
  registerAttachmentRoutes(router, mail);
  registerEventRoutes(router, mail.events);
}
