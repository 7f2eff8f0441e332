/**
 * Feedback: ground-truth labels joined, by request id, to the predictions logged for them. The
 * label is compared with the request's first output column (the model's prediction; a model
 * with several outputs, such as probabilities after the label, is scored on the first one):
 * - classification (predictions or labels are strings, booleans or whole numbers): the share of
 *   rows whose prediction equals the label (`accuracy`);
 * - regression (numeric predictions with a fraction): the root mean squared error (`rmse`).
 * Each stored label keeps what it scored, so accuracy over time is a sum per hour.
 */
import type { FeedbackRequest } from '../contract';
import { decodeBlock, valueAt, type DecodedBlock } from './predictions';
import type { LabelRow, MonitoringStore } from './store';

type Label = FeedbackRequest['labels'][number]['label'];

export interface FeedbackOutcome {
  accepted: number;
  unknownRequestIds: string[];
  mismatchedRequestIds: string[];
}

const sameValue = (prediction: unknown, label: unknown): boolean => {
  if (prediction === label) return true;
  if (prediction === null || label === null) return false;
  if (typeof prediction === 'boolean' || typeof label === 'boolean') return Number(prediction) === Number(label);
  return String(prediction) === String(label);
};

/** Scores labels against one request's predictions; null when the row counts differ. */
export function scoreLabels(
  predictions: unknown[],
  labels: unknown[]
): Pick<LabelRow, 'metric' | 'rows' | 'correct' | 'squaredError'> | null {
  if (predictions.length !== labels.length) return null;
  const numeric = predictions.every((value) => typeof value === 'number') && labels.every((value) => typeof value === 'number');
  const regression = numeric && predictions.some((value) => !Number.isInteger(value));
  let correct = 0;
  let squaredError = 0;
  predictions.forEach((prediction, row) => {
    if (regression) squaredError += ((prediction as number) - (labels[row] as number)) ** 2;
    else if (sameValue(prediction, labels[row])) correct += 1;
  });
  return { metric: regression ? 'rmse' : 'accuracy', rows: predictions.length, correct, squaredError };
}

export function applyFeedback(
  store: MonitoringStore,
  deploymentId: string,
  labels: { requestId: string; label: Label }[],
  now: number
): FeedbackOutcome {
  const outcome: FeedbackOutcome = { accepted: 0, unknownRequestIds: [], mismatchedRequestIds: [] };
  const blocks = new Map<number, DecodedBlock>();
  const rows: LabelRow[] = [];
  for (const { requestId, label } of labels) {
    const request = store.request(deploymentId, requestId);
    const data = request ? store.blockData(request.block_id) : undefined;
    if (!request || !data) {
      outcome.unknownRequestIds.push(requestId);
      continue;
    }
    let block = blocks.get(request.block_id);
    if (!block) {
      block = decodeBlock(data);
      blocks.set(request.block_id, block);
    }
    const values = Array.isArray(label) ? label : [label];
    const output = block.columns.find((column) => column.header.role === 'output');
    const predictions = output ? Array.from({ length: request.row_count }, (_, row) => valueAt(output, request.row_offset + row)) : [];
    const score = output ? scoreLabels(predictions, values) : null;
    if (!score) {
      outcome.mismatchedRequestIds.push(requestId);
      continue;
    }
    rows.push({ deploymentId, requestId, labels: JSON.stringify(values), at: request.at, receivedAt: now, ...score });
  }
  store.transaction(() => rows.forEach((row) => store.putLabel(row)));
  outcome.accepted = rows.length;
  return outcome;
}
