/** Network-layer constants: every tunable number of src/net lives here. */

/** Private Kad-DHT protocol: keeps a shoal fleet out of the public IPFS DHT. */
export const DHT_PROTOCOL = '/shoal/kad/1.0.0'

/**
 * Version carried in every announcement; receivers reject any other. 2: the CID travels as bytes
 * (it was a base32 string in 1).
 */
export const ANNOUNCE_VERSION = 2

/**
 * Prefix of the per-content GossipSub topic; the full topic is `${HAVE_TOPIC_PREFIX}<cid>`. It names
 * the announcement version, so nodes of different versions never share a topic.
 */
export const HAVE_TOPIC_PREFIX = `/shoal/${ANNOUNCE_VERSION}/have/`

/*
 * Provider records. kad-dht 16 expires records only in its reprovider sweep (records older than
 * `validity` are deleted every `interval`), and serves whatever is still stored. A departed node is
 * therefore dropped by every DHT server at most PROVIDER_VALIDITY_MS + PROVIDER_SWEEP_INTERVAL_MS
 * (3.5 min) after its last provide. A live node re-provides when its record is within
 * PROVIDER_REPROVIDE_THRESHOLD_MS of expiry; the sweep runs every 30 s, so it re-provides when the
 * record is 90-120 s old, leaving >= 60 s for the provide query before remote copies expire.
 */
export const PROVIDER_VALIDITY_MS = 3 * 60_000
export const PROVIDER_SWEEP_INTERVAL_MS = 30_000
export const PROVIDER_REPROVIDE_THRESHOLD_MS = 90_000
/** A provide that reached no DHT server is retried this often until one stores it. */
export const PROVIDE_RETRY_INTERVAL_MS = 5_000

/** Default bound of a findProviders() lookup. */
export const FIND_PROVIDERS_TIMEOUT_MS = 10_000
/** Default bound of a provide() query. */
export const PROVIDE_TIMEOUT_MS = 30_000
/**
 * libp2p's stop is given this long; past it (or on a failure) the rest is logged and left to the
 * process exit, so a node whose disk is full or whose peers hang still lets its command exit.
 */
export const NETWORK_STOP_TIMEOUT_MS = 10_000

/** Bootstrap redial backoff: first wait, cap, and +/- jitter fraction. */
export const BOOTSTRAP_BACKOFF_INITIAL_MS = 500
export const BOOTSTRAP_BACKOFF_MAX_MS = 30_000
export const BOOTSTRAP_BACKOFF_JITTER = 0.25
/** One bootstrap dial attempt may take this long. */
export const BOOTSTRAP_DIAL_TIMEOUT_MS = 5_000

/** Connection manager defaults. */
export const DEFAULT_MAX_CONNECTIONS = 300
/** libp2p's default of 5 inbound connections per host per second starves testnets behind one IP. */
export const DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND = 1_000
export const DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS = 100

/**
 * HAVE batching: at most one batch per this interval (the first after a quiet interval at once), or
 * one as soon as HAVE_FLUSH_MAX_INDEXES wait. Every hop of a new chunk's spread waits for its HAVE:
 * swarm simulator, 1 seeder + 8 receivers, 32 MiB, 20 Mbit/s, seeds 1-4: T_last 15.90-16.54 s with
 * 500 ms, 15.78-16.03 s with 250 ms, 15.42-15.69 s with 50 ms; but each halving doubles the messages
 * every member signs and checks, and the netns A/B of session 18 (250 ms among other changes) did
 * not show the gain, so 500 ms stays.
 */
export const HAVE_FLUSH_DELAY_MS = 500
export const HAVE_FLUSH_MAX_INDEXES = 1_024
/** A HAVE message may carry at most this many indexes (also caps what we accept). */
export const HAVE_MAX_INDEXES = 4_096
/** Full bitfield republished this often, so late or lossy members converge. */
export const BITFIELD_REPUBLISH_INTERVAL_MS = 15_000
/** A new subscriber triggers one BITFIELD publish after this short delay (lets the mesh form). */
export const BITFIELD_ON_SUBSCRIBE_DELAY_MS = 200
/**
 * A member that unsubscribed or disconnected is forgotten this long after, unless it is subscribed
 * again by then. A leaving node publishes LEAVE, unsubscribes and closes its connections in that
 * order, but the receiver checks a message's signature before delivering it, so the unsubscribe or
 * the disconnect can overtake the LEAVE that was sent before it; the grace lets the LEAVE land.
 */
export const LEAVE_GRACE_MS = 250
/**
 * Largest chunk count an announcement may describe: its BITFIELD is 2 MiB, under GossipSub's 4 MiB
 * RPC cap (4 TiB at the default 256 KiB chunks; the 64 MiB manifest bound, ~1.9 M chunks, binds first).
 */
export const MAX_CHUNK_COUNT = 1 << 24
/** Largest announcement accepted: a full bitfield of MAX_CHUNK_COUNT chunks plus framing. */
export const MAX_ANNOUNCE_BYTES = MAX_CHUNK_COUNT / 8 + 1_024
/** GossipSub decode limit of a message's data section. */
export const GOSSIP_MAX_INBOUND_DATA_LENGTH = MAX_ANNOUNCE_BYTES

/*
 * GossipSub mesh degree. Every announcement is flood-published to every topic member the origin is
 * connected to, so in a swarm where all members know each other the mesh's forwards only deliver
 * copies, and each copy costs its receiver a Noise frame, an RPC decode and a duplicate lookup.
 * With GossipSub's defaults (D 6, Dlo 4, Dhi 12) a member of a 10-node swarm received each
 * announcement 5.7 times (receiver 1 of `bench-cpu.js`: 1472 messages for ~260 published); with
 * these 2.1 times (542), the mesh still spreading to members the origin is not connected to (a
 * random graph of degree 2-4 is connected) and IHAVE gossip repairing losses.
 */
export const GOSSIP_MESH_D = 3
export const GOSSIP_MESH_D_LOW = 2
export const GOSSIP_MESH_D_HIGH = 4
/** Mesh peers kept by score when pruning down to D; the rest are picked at random. */
export const GOSSIP_MESH_D_SCORE = 2
/** Outbound mesh links kept (below D_LOW and at most D/2): resists an inbound-only eclipse. */
export const GOSSIP_MESH_D_OUT = 1
/** Non-mesh peers sent IHAVE gossip each heartbeat. */
export const GOSSIP_D_LAZY = 3

/** File names inside the data directory. */
export const DATASTORE_DIR = 'datastore'
export const IDENTITY_FILE = 'identity.key'

/** Prefix of a named signal topic (small coordination messages, e.g. the registry mirrors' claims). */
export const SIGNAL_TOPIC_PREFIX = '/shoal/1/signal/'
/** Largest message on a signal topic (bytes): it carries a few ids, never data. */
export const SIGNAL_MAX_BYTES = 1024

/**
 * How long a peer-store record answers repeated merges (repeat-merge-filter.ts): each peer still
 * merged again and again is written at least this often, far inside the store's expiry (hours).
 */
export const REPEAT_MERGE_TTL_MS = 30_000
/** Peers whose last merged record is remembered for that. */
export const REPEAT_MERGE_MAX_PEERS = 4_096
