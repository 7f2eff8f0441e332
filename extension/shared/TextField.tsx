import React from 'react';

/** A labelled one-line input of a dialog's form; `aria` names it when the visible label is longer. */
export function TextField({
  label,
  aria = label,
  value,
  onChange,
  placeholder,
  inputMode
}: {
  label: string;
  aria?: string;
  value: string;
  onChange(value: string): void;
  placeholder?: string;
  inputMode?: 'numeric' | 'decimal' | 'text';
}): JSX.Element {
  return (
    <label className="jp-runlab-Field">
      <span>{label}</span>
      <input
        className="jp-mod-styled"
        aria-label={aria}
        placeholder={placeholder}
        inputMode={inputMode}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
    </label>
  );
}
