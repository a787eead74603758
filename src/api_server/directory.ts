/**
 * The seam between the reference server's accounts (users, addresses, keys: `accounts.ts`) and
 * its mail model (`mail_*.ts`): what the mail side may ask about accounts.
 *
 * @module
 */
import type * as openpgp from "openpgp";

/** An address as the mail model sees it. */
export interface AddressInfo {
  ID: string;
  UserID: string;
  Email: string;
  Send: 0 | 1;
  Receive: 0 | 1;
  Status: number;
  Type: number;
  Order: number;
  DisplayName: string;
}

/** Read access to accounts for the mail model. Implemented by `accounts.ts`. */
export interface AccountDirectory {
  /** IDs of all users. */
  userIDs(): string[];
  /** The addresses of a user, sorted by `Order`. */
  addresses(userID: string): AddressInfo[];
  /** The address with this email (case-insensitive), or `undefined`. */
  findAddress(email: string): AddressInfo | undefined;
  /** The unlocked primary key of an address (the reference server keeps key passphrases). */
  addressKey(addressID: string): Promise<openpgp.PrivateKey>;
  /** All active public keys of an address, armored, primary first. */
  addressPublicKeys(addressID: string): string[];
}
