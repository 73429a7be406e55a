/** Version byte carried by every peer frame and the signal `hello`. Bumped on incompatible change. */
export const PROTOCOL_VERSION = 1;
