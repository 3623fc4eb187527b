import { strict as assert } from 'node:assert';
import type { ObjectRef } from '../../shared/catalog/pack.js';
import { waveOf } from '../../shared/restore/order.js';

const ref = (group: string, resource: string, kind: string): ObjectRef => ({
  group,
  version: 'v1',
  resource,
  kind,
  namespaced: false,
  name: 'x',
  digest: '',
});

describe('restore order', () => {
  const none = new Set<string>();
  const interceptors = [
    ref('admissionregistration.k8s.io', 'validatingwebhookconfigurations', 'V'),
    ref('admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'M'),
    ref('admissionregistration.k8s.io', 'validatingadmissionpolicies', 'P'),
    ref('apiregistration.k8s.io', 'apiservices', 'APIService'),
  ];
  const others = [
    ref('apiextensions.k8s.io', 'customresourcedefinitions', 'CustomResourceDefinition'),
    ref('', 'configmaps', 'ConfigMap'),
    ref('apps', 'deployments', 'Deployment'),
    ref('example.lifeboat.dev', 'widgets', 'Widget'),
  ];

  it('restores webhooks, admission policies and APIServices after everything they intercept', () => {
    const last = Math.max(
      ...others.flatMap((r) => [waveOf(r, false, none), waveOf(r, true, none)]),
    );
    for (const r of interceptors) {
      assert.ok(waveOf(r, false, none) > last, `${r.resource} is not last`);
      assert.ok(waveOf(r, true, none) > last, `${r.resource} with an owner is not last`);
    }
  });
});
