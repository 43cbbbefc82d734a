/**
 * Where a change was decided: on this node, or on another node of the cluster, whose decision the
 * cluster bus carried here. Listeners that publish to the other nodes pass on only their own.
 */
export type Origin = "here" | "peer";
