import { useState } from "preact/hooks";
import { api, query, seg } from "../api";
import { ActionButton, Empty, ErrorNotice, Loading, StatusBadge } from "../components";
import { formatTime, statusLabel } from "../format";
import { useResource, useTitle } from "../hooks";
import { html } from "../html";
import { href, navigate } from "../router";
import { isFinalJob, type BulkJob } from "../types";
import { POLL_ACTIVE_MS } from "./runs";

const SUMMARY_SIZE = 50;

/** The API has no list of bulk jobs: a job is opened by its id (returned when it was created). */
export function BulkJobsPage() {
  useTitle("Bulk jobs");
  const [id, setId] = useState("");
  return html`<section aria-labelledby="bulk-title">
    <h1 id="bulk-title">Bulk jobs</h1>
    <p>
      A bulk job runs a flow once per selected record. Create one with <code>POST /v1/automation/executions/bulk-jobs</code>; it
      waits for approval with the task token returned to its creator.
    </p>
    <form
      class="card inline"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        if (id.trim()) navigate(href("bulk-jobs", id.trim()));
      }}
    >
      <label for="bulk-id">Job id</label>
      <input id="bulk-id" type="text" required value=${id} onInput=${(e: Event) => setId((e.target as HTMLInputElement).value)} />
      <button type="submit">Open</button>
    </form>
  </section>`;
}

export function BulkJobPage({ jobId }: { jobId: string }) {
  useTitle(`Bulk job ${jobId.slice(0, 8)}`);
  const [token, setToken] = useState("");
  const job = useResource(
    `bulk:${jobId}`,
    () => api<BulkJob>("GET", `/v1/automation/executions/bulk-jobs/${seg(jobId)}${query({ summary_size: SUMMARY_SIZE })}`),
    (j) => (isFinalJob(j.status) ? null : POLL_ACTIVE_MS),
  );
  if (job.error)
    return html`<section>
      <h1>Bulk job</h1>
      <${ErrorNotice} error=${job.error} retry=${job.reload} />
    </section>`;
  if (!job.data)
    return html`<section>
      <h1>Bulk job</h1>
      <${Loading} label="Loading bulk job…" />
    </section>`;
  const j = job.data;
  const decide = (action: "APPROVE" | "CANCEL") => () =>
    api("PATCH", `/v1/automation/executions/bulk-jobs/${seg(j.job_id)}`, { action, task_token: token.trim() });
  const counts = Object.entries(j.counts).filter(([k]) => !["total", "dispatched", "finished", "waiting"].includes(k));

  return html`<article aria-labelledby="job-title">
    <p class="crumbs"><a href="#/bulk-jobs">Bulk jobs</a> ›</p>
    <h1 id="job-title">Bulk job <code>${j.job_id.slice(0, 8)}</code></h1>
    <dl class="facts">
      <div>
        <dt>Status</dt>
        <dd data-testid="job-status" data-status=${j.status}><${StatusBadge} status=${j.status} /></dd>
      </div>
      <div>
        <dt>Flow</dt>
        <dd><a href=${href("flows", j.flow_id)}>${j.flow_id}</a></dd>
      </div>
      <div>
        <dt>Selection</dt>
        <dd>${j.entity_query.type}</dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>${formatTime(j.created_at)} by ${j.created_by}</dd>
      </div>
      <div>
        <dt>Approved</dt>
        <dd>${formatTime(j.approved_at)}</dd>
      </div>
      <div>
        <dt>Finished</dt>
        <dd>${formatTime(j.finished_at)}</dd>
      </div>
      <div>
        <dt>Items</dt>
        <dd data-testid="job-counts">
          ${j.counts.total} total, ${j.counts.dispatched} started, ${j.counts.finished} finished, ${j.counts.waiting} waiting
        </dd>
      </div>
      ${
        counts.length
          ? html`<div>
              <dt>By status</dt>
              <dd>${counts.map(([k, v]) => `${statusLabel(k)} ${v}`).join(", ")}</dd>
            </div>`
          : null
      }
    </dl>
    ${j.error ? html`<p class="state error">${j.error}</p>` : null}
    ${
      !isFinalJob(j.status)
        ? html`<section class="card" aria-labelledby="decide-title">
            <h2 id="decide-title">${j.status === "approval" ? "Approve or cancel" : "Cancel"}</h2>
            <label for="task-token">Task token (returned when the job was created)</label>
            <input
              id="task-token"
              type="password"
              autocomplete="off"
              value=${token}
              onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)}
              data-testid="task-token"
            />
            <div class="buttons">
              ${
                j.status === "approval"
                  ? html`<${ActionButton}
                      label="Approve"
                      variant="primary"
                      testid="approve-job"
                      run=${decide("APPROVE")}
                      done=${job.reload}
                    />`
                  : null
              }
              <${ActionButton}
                label="Cancel job"
                variant="danger"
                testid="cancel-job"
                confirm="Cancel this bulk job?"
                run=${decide("CANCEL")}
                done=${job.reload}
              />
            </div>
          </section>`
        : null
    }
    <section aria-labelledby="summary-title">
      <h2 id="summary-title">Items</h2>
      ${
        j.execution_summary.length === 0
          ? html`<${Empty}>No item has started yet.<//>`
          : html`<div class="table-wrap">
              <table class="stack" data-testid="job-items">
                <caption class="visually-hidden">
                  Items of the job (first ${SUMMARY_SIZE})
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Record</th>
                    <th scope="col">Status</th>
                    <th scope="col">Run</th>
                    <th scope="col">When</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  ${j.execution_summary.map(
                    (it) =>
                      html`<tr>
                        <th scope="row" data-label="Record">${it.entity_id}</th>
                        <td data-label="Status"><${StatusBadge} status=${it.execution_status} /></td>
                        <td data-label="Run">
                          ${it.execution_id ? html`<a href=${href("runs", it.execution_id)}>${it.execution_id.slice(0, 8)}</a>` : "—"}
                        </td>
                        <td data-label="When">${formatTime(it.timestamp)}</td>
                        <td data-label="Error">${it.error ?? ""}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>
  </article>`;
}
