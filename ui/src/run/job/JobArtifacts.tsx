/**
 * The artifacts a job declares: for each, its size and a download once stored, or why there is
 * nothing to download yet (the job has not ended) or at all (it did not succeed).
 */
import { useState, type MouseEvent } from 'react';
import type { Artifact, Job } from '../../../../src/api/wire.ts';
import type { ArtifactSpec } from '../../../../src/core/artifacts.ts';
import { jobArtifactPath } from '../../../../src/api/client.ts';
import { api, errorMessage } from '../../shared/api.ts';
import { getToken } from '../../shared/auth.ts';
import { saveBlob } from '../../shared/dom.ts';
import { formatBytes } from '../../shared/format.ts';

export interface JobArtifactsProps {
  uid: string;
  job: Job;
  /** What the pipeline declares for the job (`artifacts: [{name, path}]`). */
  declared: ArtifactSpec[];
}

/** Why a declared artifact has no download, by the job's status. */
function missingText(status: Job['status']): string {
  switch (status) {
    case 'PENDING':
    case 'RUNNING':
      return 'not stored yet: stored when the job succeeds';
    case 'SKIPPED':
      return 'not stored: the job was skipped';
    case 'CANCELED':
      return 'not stored: the job was canceled';
    case 'FAILED':
      return 'not stored: the job failed';
    case 'SUCCESSFUL':
      return 'not stored';
  }
}

function DownloadLink({
  uid,
  job,
  artifact,
  onError,
}: {
  uid: string;
  job: string;
  artifact: Artifact;
  onError: (message: string | undefined) => void;
}) {
  const [busy, setBusy] = useState(false);
  const file = artifact.kind === 'directory' ? `${artifact.name}.tar` : artifact.name;
  // Without a token the browser downloads from the link itself, streaming to disk; with one,
  // the bytes are fetched with it (a link cannot send the header) and then saved.
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (getToken() === undefined) return;
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    onError(undefined);
    api
      .artifactFile(uid, job, artifact.name)
      .then((blob) => saveBlob(blob, file))
      .catch((err: unknown) =>
        onError(`Artifact "${artifact.name}" could not be downloaded: ${errorMessage(err)}`),
      )
      .finally(() => setBusy(false));
  };
  return (
    <a
      href={jobArtifactPath(uid, job, artifact.name)}
      download={file}
      onClick={onClick}
      aria-label={`Download ${artifact.name}`}
      aria-busy={busy}
    >
      {busy ? 'Downloading…' : artifact.kind === 'directory' ? 'Download .tar' : 'Download'}
    </a>
  );
}

export function JobArtifacts({ uid, job, declared }: JobArtifactsProps) {
  const [error, setError] = useState<string>();
  const stored = new Map((job.artifacts ?? []).map((a) => [a.name, a]));
  // Declared order; anything recorded that the pipeline does not list (never expected) after.
  const names = [
    ...new Set([...declared.map((a) => a.name), ...(job.artifacts ?? []).map((a) => a.name)]),
  ];
  return (
    <section className="artifacts" aria-label={`Artifacts of ${job.name}`}>
      <table className="table table-compact">
        <caption>Artifacts</caption>
        <tbody>
          {names.map((name) => {
            const artifact = stored.get(name);
            return (
              <tr key={name} data-artifact={name}>
                <th scope="row" className="mono">
                  {name}
                  {artifact?.kind === 'directory' && <span className="muted"> (directory)</span>}
                </th>
                {artifact ? (
                  <>
                    <td
                      className="numeric"
                      title={`${artifact.size.toLocaleString()} bytes, sha256 ${artifact.sha256}`}
                    >
                      {formatBytes(artifact.size)}
                    </td>
                    <td>
                      <DownloadLink
                        uid={uid}
                        job={job.name}
                        artifact={artifact}
                        onError={setError}
                      />
                    </td>
                  </>
                ) : (
                  <td colSpan={2} className="muted">
                    {missingText(job.status)}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {error && (
        <div className="banner banner-error" role="alert">
          {error}
        </div>
      )}
    </section>
  );
}
