/**
 * The IMAP/SMTP TLS certificate: generated self-signed for the loopback names, renewed before
 * expiry, or imported by the user. See {@link loadOrCreate}.
 *
 * @module
 */
export {
  CERT_FILE,
  CertificateError,
  type CertificateInfo,
  type CertificatePair,
  exportCert,
  generateCertificate,
  type GenerateOptions,
  importCert,
  IMPORTED_MARKER,
  KEY_FILE,
  type LoadOptions,
  loadOrCreate,
  LOCAL_NAMES,
  RENEW_WITHIN_DAYS,
  VALID_DAYS,
} from "./certificate.ts";
