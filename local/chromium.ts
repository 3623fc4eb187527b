import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, installed by local/install-chromium.sh (playwright-core downloads none). */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, quiet, and talking to nothing but the page under test. */
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches the machine's Chromium; a missing one fails loudly, saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (bash local/install-chromium.sh as root)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}
