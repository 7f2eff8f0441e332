/**
 * Reads an MLflow model directory (what `mlflow.<flavor>.log_model` uploads) into what a Runlab
 * model version records: the flavor from `MLmodel`, the signature converted from MLflow's
 * column/tensor specs to Runlab's (OIP datatypes), the pinned requirements from
 * `requirements.txt` and a small input example from `input_example.json`.
 */
import { parse as parseYaml } from 'yaml';
import { ModelSignature, type OipDatatype, type SignatureField } from '../contract';
import { AppError } from '../http/errors';

export interface ModelDirectoryInfo {
  flavor: string;
  signature: ModelSignature | null;
  requirements: string[];
  inputExample: unknown;
}

/** Input examples larger than this stay in the files only (the version keeps a few rows). */
const MAX_INPUT_EXAMPLE_BYTES = 64 * 1024;

/** MLflow column types (mlflow.types.DataType) → OIP. */
const COLUMN_TYPES: Record<string, OipDatatype> = {
  double: 'FP64',
  float: 'FP32',
  long: 'INT64',
  integer: 'INT32',
  boolean: 'BOOL',
  string: 'BYTES',
  binary: 'BYTES'
};

/** numpy dtypes of MLflow tensor specs → OIP. */
const TENSOR_TYPES: Record<string, OipDatatype> = {
  float64: 'FP64',
  float32: 'FP32',
  float16: 'FP16',
  int64: 'INT64',
  int32: 'INT32',
  int16: 'INT16',
  int8: 'INT8',
  uint64: 'UINT64',
  uint32: 'UINT32',
  uint16: 'UINT16',
  uint8: 'UINT8',
  bool: 'BOOL',
  object: 'BYTES',
  str: 'BYTES',
  bytes: 'BYTES'
};

const invalid = (message: string): AppError => new AppError('invalid_request', message);

/**
 * `read(path)` gives a file of the directory (undefined when absent). A directory without
 * `MLmodel` or with an unreadable one is refused: it is not a model MLflow or Runlab can load.
 */
export function readModelDirectory(read: (path: string) => Buffer | undefined): ModelDirectoryInfo {
  const text = read('MLmodel');
  if (text === undefined) throw invalid('The model files have no MLmodel file: register a directory logged with mlflow.<flavor>.log_model');
  let mlmodel: Record<string, unknown>;
  try {
    mlmodel = parseYaml(text.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw invalid(`The model's MLmodel file is not valid YAML: ${(error as Error).message}`);
  }
  if (!mlmodel || typeof mlmodel !== 'object') throw invalid("The model's MLmodel file holds no flavors");
  const example = read('input_example.json');
  return {
    flavor: flavorOf(mlmodel.flavors),
    signature: signatureOf(mlmodel.signature),
    requirements: requirementsOf(read('requirements.txt')),
    inputExample: example && example.length <= MAX_INPUT_EXAMPLE_BYTES ? inputExampleOf(example) : null
  };
}

/** Runlab's flavor names are MLflow's (`sklearn`, `onnx`); a pyfunc-only model is `python`. */
function flavorOf(flavors: unknown): string {
  if (!flavors || typeof flavors !== 'object') throw invalid("The model's MLmodel file lists no flavors");
  const names = Object.keys(flavors);
  const own = names.find((name) => name !== 'python_function');
  if (own) return own;
  if (names.includes('python_function')) return 'python';
  throw invalid("The model's MLmodel file lists no flavors");
}

/** MLflow keeps `inputs`/`outputs` as JSON strings inside the YAML. Anything unconvertible → null. */
export function signatureOf(signature: unknown): ModelSignature | null {
  if (!signature || typeof signature !== 'object') return null;
  const { inputs, outputs } = signature as { inputs?: unknown; outputs?: unknown };
  const parsedInputs = fieldsOf(inputs);
  if (!parsedInputs || parsedInputs.length === 0) return null;
  const parsedOutputs = outputs === undefined || outputs === null ? null : fieldsOf(outputs);
  const result = ModelSignature.safeParse({ inputs: parsedInputs, outputs: parsedOutputs });
  return result.success ? result.data : null;
}

function fieldsOf(specs: unknown): SignatureField[] | null {
  let list: unknown = specs;
  if (typeof specs === 'string') {
    try {
      list = JSON.parse(specs);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(list)) return null;
  const fields: SignatureField[] = [];
  for (const spec of list as Record<string, unknown>[]) {
    if (!spec || typeof spec !== 'object') return null;
    const name = typeof spec.name === 'string' ? spec.name : null;
    const required = spec.required !== false;
    if (spec.type === 'tensor') {
      const tensor = spec['tensor-spec'] as { dtype?: unknown; shape?: unknown } | undefined;
      const datatype = typeof tensor?.dtype === 'string' ? TENSOR_TYPES[tensor.dtype.replace(/^<U\d*$|^\|S\d*$/, 'str')] : undefined;
      const shape = Array.isArray(tensor?.shape) ? (tensor.shape as unknown[]) : null;
      if (!datatype || !shape || !shape.every((size) => Number.isInteger(size) && (size as number) >= -1)) return null;
      fields.push({ name, kind: 'tensor', datatype, shape: shape as number[], required });
    } else {
      const datatype = typeof spec.type === 'string' ? COLUMN_TYPES[spec.type] : undefined;
      if (!datatype) return null;
      fields.push({ name, kind: 'column', datatype, shape: [-1], required });
    }
  }
  return fields;
}

/** Pinned lines of requirements.txt; options (`-r`, `--index-url`) and comments are left out. */
function requirementsOf(file: Buffer | undefined): string[] {
  if (!file) return [];
  return file
    .toString('utf8')
    .split(/\r?\n/)
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('-') && line.length <= 300)
    .slice(0, 500);
}

/**
 * MLflow's `input_example.json`: a table in pandas `split` orientation (`{columns, data}`, kept
 * as is), or a tensor in tf-serving form (`{"inputs": [...]}`, kept as the nested list).
 */
function inputExampleOf(file: Buffer): unknown {
  try {
    const example = JSON.parse(file.toString('utf8')) as unknown;
    if (example && typeof example === 'object' && !Array.isArray(example)) {
      const { inputs, columns, data } = example as { inputs?: unknown; columns?: unknown; data?: unknown };
      if (inputs !== undefined && columns === undefined) return inputs;
      if (Array.isArray(data)) return { ...(Array.isArray(columns) ? { columns } : {}), data };
    }
    return example;
  } catch {
    return null;
  }
}
