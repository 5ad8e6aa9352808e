// A React component as docs/embedding.md shows it, against the JSX
// declaration the page gives (copied from the page by the test).
import { useRef, useState } from 'react';
import type { ClusterScopeElement } from './clusterscope';

export function Lab() {
  const lab = useRef<ClusterScopeElement>(null);
  const [leader, setLeader] = useState<string | null>(null);
  void setLeader;
  return (
    <>
      <cluster-scope ref={lab} lab="raft" controls="compact" view="both" height={480} autoplay="0">
        {`lab raft
seed 7`}
      </cluster-scope>
      <button disabled={!leader} onClick={() => lab.current?.act(`crash ${leader}`)}>
        Crash {leader ?? 'the leader'}
      </button>
      {/* @ts-expect-error controls are none, compact or full */}
      <cluster-scope controls="tiny" />
      {/* @ts-expect-error the view is cluster, diagram or both */}
      <cluster-scope view="table" />
    </>
  );
}
