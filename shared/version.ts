/** This release of Lifeboat; package.json says the same (a unit test holds them together). */
export const LIFEBOAT_VERSION = '0.3.0';
