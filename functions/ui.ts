import type { IncomingMessage, ServerResponse } from 'node:http';
import { http, type Request, type Response } from '@google-cloud/functions-framework';
import { Layout } from '../shared/catalog/layout.js';
import { loadConfig, type Config } from '../shared/config/config.js';
import { dataKeyId, loadSealer } from '../shared/catalog/data-key.js';
import type { Sealer } from '../shared/crypto/sealer.js';
import { errorMessage } from '../shared/errors.js';
import { requestLogContext, withLogContext } from '../shared/log/log-context.js';
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

interface Instance {
  handler: Handler;
  logger: Logger;
}

async function build(config: Config): Promise<Instance> {
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
let instance: Promise<Instance> | undefined;

const name: HttpFunctionName = 'ui';

/** The reason is the configuration's or the key's, not the caller's: logged, and said plainly. */
function cannotStart(res: Response, error: unknown): void {
  createLogger({}).error({ reason: errorMessage(error) }, `${name}: cannot start`);
  res
    .status(503)
    .type('text/plain')
    .send(`The Lifeboat UI cannot start: ${errorMessage(error)}\n`);
}

async function serve(config: Config, req: Request, res: Response): Promise<void> {
  let built;
  try {
    instance ??= build(config);
    built = await instance;
  } catch (error) {
    instance = undefined;
    cannotStart(res, error);
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
}

/**
 * The catalog browser as an HTTP function: the same read-only page as
 * `lifeboat ui`, over the deployed store. Who may open it is decided by IAM
 * (the invoker role, infra/ui.tf), never by this code.
 */
http(name, async (req, res) => {
  // Read on every request, not kept: the project names the request's trace, and a
  // configuration that failed must be read again on the next request.
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    // No project to name a trace in: this one line goes without the request's ids.
    cannotStart(res, error);
    return;
  }
  // Every line logged while the request is served carries its execution id and trace.
  await withLogContext(requestLogContext(config.project, req.headers), () =>
    serve(config, req, res),
  );
});
