/**
 * The OpenPGP layer (openpgp.js wrappers): key generation and unlocking (key salts, address-key
 * tokens), message encryption and decryption, split messages and session keys for attachments and
 * send packages, detached signatures, base64. Every failure is a {@link CryptoError}.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./base64.ts";
export * from "./keys.ts";
export * from "./key_ring.ts";
export * from "./key_password.ts";
export * from "./address_keys.ts";
export * from "./message.ts";
export * from "./split.ts";
export * from "./attachment.ts";
export * from "./session_key.ts";
export * from "./armor.ts";
