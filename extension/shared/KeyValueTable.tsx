import React from 'react';

/** Two columns, a name and its value per row; `empty` (when given) says so when there are no rows. */
export function KeyValueTable({ entries, empty }: { entries: readonly (readonly [string, string])[]; empty?: string }): JSX.Element {
  if (!entries.length && empty !== undefined) {
    return <p className="jp-runlab-Muted">{empty}</p>;
  }
  return (
    <table className="jp-runlab-Table">
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
