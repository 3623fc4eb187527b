/**
 * The Cloud Functions entry points: each file registers one function with
 * the Functions Framework under the name in registry.ts.
 */
import './enumerate-clusters.js';
import './plan-backup.js';
import './export-shard.js';
import './snapshot-volume.js';
import './emit-catalog.js';
import './restore.js';
import './cluster-events.js';
import './retention.js';
import './drill.js';
import './ui.js';
