/**
 * Sessions: SRP login, TOTP, refresh, resume, logout (go-proton-api `manager_auth.go`; proton-bridge
 * `internal/bridge/user.go` `LoginAuth`; proton-api.md §1.2, §2).
 *
 * Login sequence: `POST /auth/v4/info` → verify the modulus' PGP clear-signature against the
 * trusted modulus keys (never proceed with an untrusted modulus) → SRP proofs → `POST /auth/v4`
 * → compare `ServerProof` with the expected proof (mismatch: the fresh session is deleted and the
 * login fails) → tokens installed on the client. Then, if `2FA.Enabled & 1`, {@link submitTotp}.
 *
 * @module
 */
import { generateProofs, verifyServerProof } from "../crypto/srp_client.ts";
import { readSignedModulus } from "../crypto/srp_modulus.ts";
import { PROTON_MODULUS_PUBKEY } from "../crypto/srp_constants.ts";
import { SrpError } from "../crypto/srp_error.ts";
import {
  type HumanVerification,
  HumanVerificationRequiredError,
  LoginSecurityError,
} from "./errors.ts";
import type { ApiClient, ApiReply } from "./transport.ts";
import type { Auth, AuthInfo, AuthReq, FIDO2Req } from "./types.ts";
import { PasswordMode } from "./types.ts";

/** `2FA.Enabled` bits. */
export const TwoFactorBit = { TOTP: 1, FIDO2: 2 } as const;

/**
 * The FIDO2 part of auth requests when no security key is used: go-proton-api always sends the
 * (zero-valued) object.
 */
export const EMPTY_FIDO2: FIDO2Req = {
  AuthenticationOptions: null,
  ClientData: "",
  AuthenticatorData: "",
  Signature: "",
  CredentialID: "",
};

/** Options of {@link login}. */
export interface LoginOptions {
  /** The login name (email or username). */
  username: string;
  /** The login password. */
  password: string;
  /**
   * Armored public keys allowed to sign the SRP modulus. Default: Proton's published
   * modulus-signing key only. A reference server's key must be added explicitly.
   */
  trustedModulusKeys?: string[];
  /** A solved human-verification challenge: sent with the login requests. */
  hv?: HumanVerification;
  /**
   * The `/auth/v4/info` reply of the attempt that got the 9001 (from
   * `HumanVerificationRequiredError.authInfo`): the HV token is bound to its SRP session.
   */
  authInfo?: AuthInfo;
}

/** What {@link login} returns. */
export interface LoginResult {
  /** The `POST /auth/v4` reply (tokens are already installed on the client). */
  auth: Auth;
  /** Whether a TOTP code must be submitted with {@link submitTotp} before anything else. */
  twoFactorRequired: boolean;
  /** Whether the account has a FIDO2 key (Bridge cannot use it; TOTP is the only second factor). */
  fido2Enabled: boolean;
  /** 1: the login password unlocks the keys; 2: a separate mailbox password is needed. */
  passwordMode: number;
}

/** `POST /auth/v4/info` for `username` (no session headers). */
export async function getAuthInfo(
  client: ApiClient,
  username: string,
  hv?: HumanVerification,
): Promise<AuthInfo> {
  const c = hv ? client.withHumanVerification(hv) : client;
  const reply = await c.post("/auth/v4/info", { Username: username }, { auth: false });
  return reply as unknown as AuthInfo;
}

/** Logs in with SRP. See the module doc for the sequence. */
export async function login(client: ApiClient, opts: LoginOptions): Promise<LoginResult> {
  const trusted = opts.trustedModulusKeys ?? [PROTON_MODULUS_PUBKEY];
  const info = opts.authInfo ?? await getAuthInfo(client, opts.username, opts.hv);

  let modulus: Uint8Array;
  try {
    modulus = await readSignedModulus(info.Modulus, trusted);
  } catch (e) {
    throw new LoginSecurityError(
      "modulus",
      "refusing to log in: the server's SRP modulus is not signed by a trusted key " +
        `(${e instanceof Error ? e.message : String(e)})`,
      e,
    );
  }

  let proofs;
  try {
    proofs = generateProofs({
      version: info.Version,
      username: opts.username,
      password: opts.password,
      salt: info.Salt,
      modulus,
      serverEphemeral: info.ServerEphemeral,
    });
  } catch (e) {
    if (e instanceof SrpError && (e.kind === "bad-modulus" || e.kind === "bad-params")) {
      throw new LoginSecurityError("modulus", `refusing to log in: ${e.message}`, e);
    }
    throw e;
  }

  const req: AuthReq = {
    Username: opts.username,
    ClientEphemeral: proofs.clientEphemeral,
    ClientProof: proofs.clientProof,
    SRPSession: info.SRPSession,
    FIDO2: EMPTY_FIDO2,
  };
  const c = opts.hv ? client.withHumanVerification(opts.hv) : client;
  let auth: Auth;
  try {
    // No retries: an SRP session is good for one attempt.
    auth = await c.post("/auth/v4", req, { auth: false, maxRetries: 0 }) as unknown as Auth;
  } catch (e) {
    if (e instanceof HumanVerificationRequiredError) e.authInfo = info;
    throw e;
  }

  try {
    verifyServerProof(proofs.expectedServerProof, String(auth.ServerProof ?? ""));
  } catch (e) {
    // The server could not prove it knows the verifier: drop the session it handed out.
    if (auth.UID && auth.AccessToken) {
      client.setAuth({ uid: auth.UID, accessToken: auth.AccessToken, refreshToken: "" });
      await client.delete("/auth/v4", { maxRetries: 0 }).catch(() => {});
    }
    client.clearAuth();
    throw new LoginSecurityError("server-proof", "refusing to log in: wrong SRP server proof", e);
  }

  client.setAuth({
    uid: auth.UID,
    accessToken: auth.AccessToken,
    refreshToken: auth.RefreshToken,
  });
  const enabled = auth["2FA"]?.Enabled ?? 0;
  return {
    auth,
    twoFactorRequired: (enabled & TwoFactorBit.TOTP) !== 0,
    fido2Enabled: (enabled & TwoFactorBit.FIDO2) !== 0,
    passwordMode: auth.PasswordMode === PasswordMode.Two ? PasswordMode.Two : PasswordMode.One,
  };
}

/** `POST /auth/v4/2fa` with a TOTP code (the session must come from {@link login}). */
export function submitTotp(client: ApiClient, code: string): Promise<ApiReply> {
  return client.post("/auth/v4/2fa", { TwoFactorCode: code, FIDO2: EMPTY_FIDO2 }, {
    auth: true,
    maxRetries: 0,
  });
}

/** Refreshes the session tokens (`POST /auth/v4/refresh`); see `ApiClient.refresh`. */
export function refresh(client: ApiClient): Promise<void> {
  return client.refresh();
}

/**
 * Restores a stored session (UID + refresh token from the vault) with a refresh, as Bridge does
 * on restart instead of logging in again. A refused refresh throws `SignedOutError`.
 */
export async function resumeSession(
  client: ApiClient,
  uid: string,
  refreshToken: string,
): Promise<void> {
  client.setAuth({ uid, accessToken: "", refreshToken });
  await client.refresh();
}

/** `DELETE /auth/v4`, then forgets the tokens (also when the call fails). */
export async function logout(client: ApiClient): Promise<void> {
  try {
    await client.delete("/auth/v4", { auth: true, maxRetries: 0 });
  } finally {
    client.clearAuth();
  }
}
