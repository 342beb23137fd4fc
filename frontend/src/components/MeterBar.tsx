import type { MeterLevel } from "../usage/warnings";
import "./MeterBar.css";

/** A horizontal usage bar; `percent` may exceed 100 (the bar is capped, the text is not). */
export function MeterBar({
  label,
  percent,
  level,
  valueText,
}: {
  label: string;
  percent: number;
  level: MeterLevel;
  valueText: string;
}) {
  const width = Math.max(0, Math.min(100, percent));
  return (
    <div
      className={`meter-bar meter-bar-${level}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(width)}
      aria-valuetext={valueText}
    >
      <div className="meter-bar-fill" style={{ width: `${width}%` }} />
    </div>
  );
}
