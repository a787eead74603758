/** The version `bridge --version` prints and the API client reports in `x-pm-appversion`. */
export const VERSION = "0.1.0";
