import { KubeConfig } from '@kubernetes/client-node';

/**
 * The local environment's settings, as `with-env` exports them. A test that
 * needs the environment fails loudly when it is missing: it never skips.
 */
export function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: integration tests need the local environment; run them through "npm test".`,
    );
  }
  return value;
}

export function kubeConfigFor(which: 'source' | 'target'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(
    required(which === 'source' ? 'LIFEBOAT_SOURCE_KUBECONFIG' : 'LIFEBOAT_TARGET_KUBECONFIG'),
  );
  return kc;
}

/** A short random suffix so tests sharing one environment never collide. */
export function unique(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
