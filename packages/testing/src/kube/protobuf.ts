/**
 * Request bodies in Kubernetes' protobuf encoding, as client-go sends them for built-in types when a
 * client asks for it (helm stores its releases in Secrets this way). Only the kinds helm and kubectl
 * send are decoded; anything else stays a 415, as from a server that does not know the type.
 *
 * The wire form is the 4-byte magic `k8s\0` and a `runtime.Unknown` envelope whose `raw` field holds
 * the object; field numbers are those of k8s.io/api's generated.proto files.
 */
import protobuf from 'protobufjs';
import type { Obj } from './store.js';

const str = (id: number) => ({ type: 'string', id });
const map = (id: number, type = 'string') => ({ keyType: 'string', type, id });

const root = protobuf.Root.fromJSON({
  nested: {
    Unknown: {
      fields: { typeMeta: { type: 'TypeMeta', id: 1 }, raw: { type: 'bytes', id: 2 } },
    },
    TypeMeta: { fields: { apiVersion: str(1), kind: str(2) } },
    Time: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
    OwnerReference: {
      fields: {
        kind: str(1),
        name: str(3),
        uid: str(4),
        apiVersion: str(5),
        controller: { type: 'bool', id: 6 },
        blockOwnerDeletion: { type: 'bool', id: 7 },
      },
    },
    ObjectMeta: {
      fields: {
        name: str(1),
        generateName: str(2),
        namespace: str(3),
        uid: str(5),
        resourceVersion: str(6),
        generation: { type: 'int64', id: 7 },
        creationTimestamp: { type: 'Time', id: 8 },
        labels: map(11),
        annotations: map(12),
        ownerReferences: { rule: 'repeated', type: 'OwnerReference', id: 13 },
        finalizers: { rule: 'repeated', type: 'string', id: 14 },
      },
    },
    Secret: {
      fields: {
        metadata: { type: 'ObjectMeta', id: 1 },
        data: map(2, 'bytes'),
        type: str(3),
        stringData: map(4),
        immutable: { type: 'bool', id: 5 },
      },
    },
    ConfigMap: {
      fields: {
        metadata: { type: 'ObjectMeta', id: 1 },
        data: map(2),
        binaryData: map(3, 'bytes'),
        immutable: { type: 'bool', id: 4 },
      },
    },
    Preconditions: { fields: { uid: str(1), resourceVersion: str(2) } },
    DeleteOptions: {
      fields: {
        gracePeriodSeconds: { type: 'int64', id: 1 },
        preconditions: { type: 'Preconditions', id: 2 },
        orphanDependents: { type: 'bool', id: 3 },
        propagationPolicy: str(4),
        dryRun: { rule: 'repeated', type: 'string', id: 5 },
      },
    },
  },
});

const MAGIC = Buffer.from('k8s\0', 'latin1');
const DECODED = new Set(['Secret', 'ConfigMap', 'DeleteOptions']);

export class UnsupportedProtobuf extends Error {}

/** The JSON form of a protobuf request body; throws UnsupportedProtobuf for kinds not decoded here. */
export function fromProtobuf(body: Buffer): Obj {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC))
    throw new UnsupportedProtobuf('the body does not start with the protobuf magic "k8s\\0"');
  const envelope = root.lookupType('Unknown').decode(body.subarray(MAGIC.length)) as unknown as {
    typeMeta?: { apiVersion?: string; kind?: string };
    raw?: Uint8Array;
  };
  const kind = envelope.typeMeta?.kind ?? '';
  if (!DECODED.has(kind))
    throw new UnsupportedProtobuf(`the fake does not decode protobuf ${kind || 'objects without a kind'}`);
  const type = root.lookupType(kind);
  const obj = type.toObject(type.decode(envelope.raw ?? new Uint8Array()), {
    longs: Number,
    bytes: String, // base64, as in JSON
  }) as Obj;
  const meta = obj.metadata;
  if (meta?.creationTimestamp) {
    // client-go sends the zero Time as an empty message: JSON's null, which the server then sets
    const { seconds } = meta.creationTimestamp as { seconds?: number };
    if (seconds) meta.creationTimestamp = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
    else delete meta.creationTimestamp;
  }
  return { apiVersion: envelope.typeMeta?.apiVersion, kind, ...obj };
}
