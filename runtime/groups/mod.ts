/**
 * Consumer groups: membership, balanced sticky assignment with cooperative
 * handover, and committed offsets.
 *
 * @module
 */

export * from "./types.ts";
export { GroupCoordinator } from "./coordinator.ts";
export {
  type Assignment,
  type AssignOptions,
  assignPartitions,
} from "./assignor.ts";
