import type { AddOptions, AddResult, ContentInfo, ContentRead, GcOptions, GcReport, GetOptions, GetResult, NodeStatus, ReadOptions } from './types.js'

/**
 * What a caller can ask of a shoal node. The in-process `ShoalNode` implements it, and so does the
 * control API client, so the CLI drives a local node and a daemon through the same code.
 */
export interface ShoalApi {
  add(path: string, options?: AddOptions): Promise<AddResult>
  get(cid: string, options?: GetOptions): Promise<GetResult>
  /** Streams a file of a content (fetched first when not held); see ShoalNode.read. */
  read(cid: string, options?: ReadOptions): Promise<ContentRead>
  ls(): Promise<ContentInfo[]>
  status(): Promise<NodeStatus>
  /** Stops downloading or seeding a content and forgets its state; files on disk are kept (but a managed content's go). */
  remove(cid: string): Promise<void>
  /** Pins a content: the cache never evicts it. */
  pin(cid: string): Promise<void>
  /** Unpins a content: the cache may evict it again (when it lives in the managed store). */
  unpin(cid: string): Promise<void>
  /** One cache GC pass, or with `dryRun` what it would evict. */
  gc(options?: GcOptions): Promise<GcReport>
}
