import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '@google-cloud/functions-framework';
import { Layout } from '../shared/catalog/layout.js';
import { loadConfig, type Config } from '../shared/config/config.js';
import { dataKeyId, loadSealer } from '../shared/catalog/data-key.js';
import type { Sealer } from '../shared/crypto/sealer.js';
import { errorMessage } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/log/logger.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { openStore } from '../shared/store/open-store.js';
import { createUiHandler } from '../shared/ui/ui-handler.js';
import type { HttpFunctionName } from './registry.js';
import { keyWrapper } from './runtime.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The data key, read-only: loaded when the store holds it, so that the page
 * can show which keys a Secret has; never created (loadSealer would create a
 * missing one, and this function may not write). Without a key, Secrets are
 * shown as sealed.
 */
async function readOnlySealer(config: Config, store: ObjectStore): Promise<Sealer | undefined> {
  const wrapper = keyWrapper(config);
  if (!wrapper) return undefined;
  if (!(await store.exists(Layout.dataKey(dataKeyId(wrapper))))) return undefined;
  return loadSealer(store, wrapper);
}

async function build(): Promise<{ handler: Handler; logger: Logger }> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const store = openStore(config.store);
  const sealer = await readOnlySealer(config, store);
  const handler = createUiHandler({ store, ...(sealer ? { sealer } : {}) });
  return { handler, logger };
}

/**
 * Built once per instance, on the first request; a failure (a bad
 * configuration, KMS unavailable) is not kept, so the next request tries
 * again.
 */
let instance: ReturnType<typeof build> | undefined;

const name: HttpFunctionName = 'ui';

/**
 * The catalog browser as an HTTP function: the same read-only page as
 * `lifeboat ui`, over the deployed store. Who may open it is decided by IAM
 * (the invoker role, infra/ui.tf), never by this code.
 */
http(name, async (req, res) => {
  let built;
  try {
    instance ??= build();
    built = await instance;
  } catch (error) {
    instance = undefined;
    // The reason is the configuration's or the key's, not the caller's: logged, and said plainly.
    createLogger({}).error({ reason: errorMessage(error) }, `${name}: cannot start`);
    res
      .status(503)
      .type('text/plain')
      .send(`The Lifeboat UI cannot start: ${errorMessage(error)}\n`);
    return;
  }
  try {
    await built.handler(req, res);
  } catch (error) {
    built.logger.error({ reason: errorMessage(error), path: req.path }, `${name}: request failed`);
    if (!res.headersSent)
      res.status(500).type('text/plain').send('The page failed; see the logs.\n');
    else res.end();
  }
});
