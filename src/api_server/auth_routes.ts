/**
 * Auth routes of the reference server (proton-api.md §1.2, go-proton-api `server/auth.go`):
 *
 * | Route | Auth | Reply |
 * |---|---|---|
 * | `POST /auth/v4/info` `{Username}` | no | `{Version, Modulus, ServerEphemeral, Salt, SRPSession, 2FA}`; unknown user → 401 Code 8002 |
 * | `POST /auth/v4` `{Username, ClientEphemeral, ClientProof, SRPSession}` | no | `{UserID, UID, AccessToken, RefreshToken, ServerProof, Scope, 2FA, PasswordMode}`; wrong password → 422 Code 8002 |
 * | `POST /auth/v4/2fa` `{TwoFactorCode}` | yes (also while 2FA is pending) | `{Scope}`; wrong code → 422 Code 8002 |
 * | `POST /auth/v4/refresh` `{UID, RefreshToken, …}` | no | same shape as `/auth/v4`, both tokens rotated; refused → 422 Code 10013 |
 * | `DELETE /auth/v4` | yes (also while 2FA is pending) | `{}`; the session is gone |
 * | `GET /auth/v4/modulus` | no | `{Modulus, ModulusID}` |
 * | `GET /auth/v4/sessions` | yes | `{Sessions}` |
 * | `DELETE /auth/v4/sessions` | yes | ends every other session of the user |
 * | `DELETE /auth/v4/sessions/{uid}` | yes | ends that session of the user |
 *
 * @module
 */
import { ApiServerError, ok, type Router } from "./http.ts";
import { type Accounts, MODULUS_ID } from "./accounts.ts";

/** Routes a session that still owes its TOTP code may use (`METHOD path`). */
export const TWO_FACTOR_ALLOWED = new Set([
  "POST /auth/v4/2fa",
  "DELETE /auth/v4",
  "GET /core/v4/users",
]);

/** Registers the auth routes. `signedModulus` is what `/auth/v4/modulus` answers. */
export function registerAuthRoutes(router: Router, accounts: Accounts, signedModulus: string) {
  router.add("POST", "/auth/v4/info", async (req) => {
    const body = await req.json<{ Username?: unknown }>();
    if (typeof body.Username !== "string" || body.Username === "") {
      throw new ApiServerError(422, 2001, "Username is required");
    }
    return ok({ ...accounts.authInfo(body.Username) });
  }, { auth: false });

  router.add("POST", "/auth/v4", async (req) => {
    const body = await req.json<Record<string, unknown>>();
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    return ok({
      ...accounts.login({
        Username: str(body.Username),
        ClientEphemeral: str(body.ClientEphemeral),
        ClientProof: str(body.ClientProof),
        SRPSession: str(body.SRPSession),
      }),
    });
  }, { auth: false });

  router.add("POST", "/auth/v4/2fa", async (req) => {
    const body = await req.json<{ TwoFactorCode?: unknown }>();
    if (typeof body.TwoFactorCode !== "string") {
      throw new ApiServerError(422, 2001, "TwoFactorCode is required");
    }
    const { Scope } = accounts.submitTwoFactor(req.sessionUID, body.TwoFactorCode);
    return ok({ Scope, Scopes: Scope.split(" ") });
  });

  router.add("POST", "/auth/v4/refresh", async (req) => {
    const body = await req.json<{ UID?: unknown; RefreshToken?: unknown }>();
    // The manager sends no x-pm-uid on refresh; accept the header as a fallback for the body.
    const uid = typeof body.UID === "string" ? body.UID : req.request.headers.get("x-pm-uid");
    if (typeof uid !== "string" || typeof body.RefreshToken !== "string") {
      throw new ApiServerError(422, 10013, "Invalid refresh token");
    }
    return ok({ ...accounts.refresh(uid, body.RefreshToken) });
  }, { auth: false });

  router.add("DELETE", "/auth/v4", (req) => {
    accounts.deleteSession(req.sessionUID);
    return ok();
  });

  router.add(
    "GET",
    "/auth/v4/modulus",
    () => ok({ Modulus: signedModulus, ModulusID: MODULUS_ID }),
    {
      auth: false,
    },
  );

  router.add("GET", "/auth/v4/sessions", (req) =>
    ok({
      Sessions: accounts.sessions(req.userID).map((s) => ({
        UID: s.UID,
        CreateTime: s.CreateTime,
        ClientID: "bridge",
        MemberID: req.userID,
        Revocable: s.UID === req.sessionUID ? 0 : 1,
        LocalizedClientName: "Bridge",
      })),
    }));
  router.add("DELETE", "/auth/v4/sessions", (req) => {
    for (const s of accounts.sessions(req.userID)) {
      if (s.UID !== req.sessionUID) accounts.deleteSession(s.UID);
    }
    return ok();
  });
  router.add("DELETE", "/auth/v4/sessions/:uid", (req) => {
    const s = accounts.sessions(req.userID).find((s) => s.UID === req.params.uid);
    if (!s) throw new ApiServerError(422, 2501, "Session does not exist");
    accounts.deleteSession(s.UID);
    return ok();
  });
}
