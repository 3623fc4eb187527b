import { PubSub } from '@google-cloud/pubsub';
import { PubSubBus } from '../../shared/bus/pubsub-bus.js';
import { busContract } from '../contract/bus.contract.js';
import { required } from '../../local/settings.js';

busContract('Pub/Sub emulator', async () => {
  required('PUBSUB_EMULATOR_HOST');
  return new PubSubBus(new PubSub({ projectId: 'lifeboat-local' }), {
    createTopics: true,
    ackDeadlineSeconds: 10,
  });
});
