import { readFileSync } from 'node:fs';

/**
 * Reads a `.heapsnapshot` (V8's JSON: flat `nodes` and `edges` arrays described by `snapshot.meta`)
 * into what the memory bench compares: self size and count by holder, and for a holder the chain
 * of first retainers of one of its objects. Retained sizes (dominator trees) are left to DevTools:
 * the snapshot files are kept for that.
 */

export interface HolderTotals {
  /** Constructor name for objects and closures, `(type)` for strings, arrays, code and the rest. */
  holder: string;
  count: number;
  selfBytes: number;
}

export interface ParsedSnapshot {
  totalBytes: number;
  holders: Map<string, HolderTotals>;
  /** Retainer chains (`Holder <-edge- Retainer …`) for the named holders, one object each. */
  retainerChain(holder: string, depth?: number): string;
}

interface RawSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const NAMED_TYPES = new Set(['object', 'closure', 'native', 'regexp']);

export function parseHeapSnapshot(file: string): ParsedSnapshot {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
  const { meta } = raw.snapshot;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const typeAt = meta.node_fields.indexOf('type');
  const nameAt = meta.node_fields.indexOf('name');
  const sizeAt = meta.node_fields.indexOf('self_size');
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
  const edgeToAt = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = raw;
  const nodeCount = nodes.length / nodeWidth;

  const holderOf = (node: number): string => {
    const type = nodeTypes[nodes[node * nodeWidth + typeAt] as number] ?? '?';
    if (!NAMED_TYPES.has(type)) return `(${type})`;
    const name = strings[nodes[node * nodeWidth + nameAt] as number] ?? '?';
    return type === 'closure' ? `${name}()` : name;
  };

  const holders = new Map<string, HolderTotals>();
  let totalBytes = 0;
  for (let node = 0; node < nodeCount; node++) {
    const holder = holderOf(node);
    const size = nodes[node * nodeWidth + sizeAt] as number;
    totalBytes += size;
    const totals = holders.get(holder) ?? { holder, count: 0, selfBytes: 0 };
    totals.count += 1;
    totals.selfBytes += size;
    holders.set(holder, totals);
  }

  // The first strong retainer of every node (weak edges do not keep anything alive).
  const retainer = new Int32Array(nodeCount).fill(-1);
  const retainerEdge = new Int32Array(nodeCount).fill(-1);
  let edge = 0;
  for (let node = 0; node < nodeCount; node++) {
    const count = nodes[node * nodeWidth + edgeCountAt] as number;
    for (let i = 0; i < count; i++, edge += edgeWidth) {
      if (edgeTypes[edges[edge + edgeTypeAt] as number] === 'weak') continue;
      const to = (edges[edge + edgeToAt] as number) / nodeWidth;
      if (retainer[to] === -1 && to !== node) {
        retainer[to] = node;
        retainerEdge[to] = edge;
      }
    }
  }

  const edgeLabel = (at: number): string => {
    const type = edgeTypes[edges[at + edgeTypeAt] as number];
    const nameOrIndex = edges[at + edgeNameAt] as number;
    return type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : (strings[nameOrIndex] ?? '?');
  };

  return {
    totalBytes,
    holders,
    retainerChain(holder, depth = 8) {
      // The last object of that holder: the most recently made, so most likely a job's.
      let node = -1;
      for (let each = nodeCount - 1; each >= 0; each--) {
        if (holderOf(each) === holder) {
          node = each;
          break;
        }
      }
      if (node === -1) return `${holder}: none`;
      const chain = [holder];
      const seen = new Set([node]);
      for (let step = 0; step < depth && retainer[node] !== -1; step++) {
        const label = edgeLabel(retainerEdge[node] as number);
        node = retainer[node] as number;
        if (seen.has(node)) break;
        seen.add(node);
        chain.push(`.${label} of ${holderOf(node)}`);
      }
      return chain.join(' ← ');
    },
  };
}

/** The holders that grew most from `before` to `after`, by self bytes. */
export function growth(before: ParsedSnapshot, after: ParsedSnapshot, top = 25) {
  const rows = [...after.holders.values()].map((totals) => {
    const base = before.holders.get(totals.holder);
    return {
      holder: totals.holder,
      countDelta: totals.count - (base?.count ?? 0),
      bytesDelta: totals.selfBytes - (base?.selfBytes ?? 0),
    };
  });
  return rows.sort((a, b) => b.bytesDelta - a.bytesDelta).slice(0, top);
}
