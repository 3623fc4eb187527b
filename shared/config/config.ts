import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../errors.js';
import { validate } from '../validate.js';

export const LogLevels = ['trace', 'debug', 'info', 'warn', 'error'] as const;

export const Config = Type.Object(
  {
    store: Type.String({ pattern: '^(gs://[a-z0-9][-a-z0-9_.]{1,221}[a-z0-9](/.*)?|file:///.*)$' }),
    project: Type.String({ pattern: '^[a-z][-a-z0-9]{4,28}[a-z0-9]$', default: 'lifeboat-local' }),
    topicPrefix: Type.String({ pattern: '^[a-zA-Z][-a-zA-Z0-9_.]*$', default: 'lifeboat-' }),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
    kmsKey: Type.Optional(
      Type.String({ pattern: '^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$' }),
    ),
    /** Where the Cloud KMS API is reached (a local stand-in in tests); the real API when unset. */
    kmsEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
    kubeconfig: Type.Optional(Type.String({ minLength: 1 })),
    computeEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
    containerEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
    logLevel: Type.Union(
      LogLevels.map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof Config>;

/** Each setting and the environment variable that sets it. */
const ENV_NAMES: Record<keyof Config, string> = {
  store: 'LIFEBOAT_STORE',
  project: 'LIFEBOAT_PROJECT',
  topicPrefix: 'LIFEBOAT_TOPIC_PREFIX',
  keyFile: 'LIFEBOAT_KEY_FILE',
  kmsKey: 'LIFEBOAT_KMS_KEY',
  kmsEndpoint: 'LIFEBOAT_KMS_ENDPOINT',
  kubeconfig: 'LIFEBOAT_KUBECONFIG',
  computeEndpoint: 'LIFEBOAT_COMPUTE_ENDPOINT',
  containerEndpoint: 'LIFEBOAT_CONTAINER_ENDPOINT',
  logLevel: 'LIFEBOAT_LOG_LEVEL',
};

function readFileSettings(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError(`config file ${path}`, [
      `cannot be read (${(error as Error).message})`,
    ]);
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError(`config file ${path}`, ['(root): must be a mapping of settings']);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Settings come from an optional YAML or JSON file (LIFEBOAT_CONFIG), then
 * the environment, which wins. A wrong or missing setting fails with a
 * one-line error naming the environment variable as well as the key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const file = env['LIFEBOAT_CONFIG'];
  const merged: Record<string, unknown> = file ? readFileSettings(file) : {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  if (merged['project'] === undefined && env['GOOGLE_CLOUD_PROJECT']) {
    merged['project'] = env['GOOGLE_CLOUD_PROJECT'];
  }
  try {
    return validate(Config, merged, 'configuration');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const named = error.problems.map((p) => {
      const key = /^\/(\w+)/.exec(p)?.[1] ?? /"(\w+)"/.exec(p)?.[1];
      const envName = key ? ENV_NAMES[key as keyof Config] : undefined;
      const missing = /must have required property '(\w+)'/.exec(p)?.[1];
      if (missing)
        return `${ENV_NAMES[missing as keyof Config] ?? missing} (${missing}) is required`;
      return envName ? `${envName} (${key}) ${p.replace(/^\/\w+: /, '')}` : p;
    });
    throw new ValidationError(
      file ? `configuration (${file} and environment)` : 'configuration',
      named,
    );
  }
}
