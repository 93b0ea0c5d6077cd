import { Link } from '../lib/router';

/**
 * Parent categories as chips.
 *
 * `linked`: each chip searches the gallery for its category. A page lists the same categories
 * under each of a photo's labels: as links there they gave keyboard and screen-reader users a
 * dozen links of the same few names, so only one list of them links.
 */
export function CategoryChips({
  categories,
  label,
  linked = true,
}: {
  categories: string[];
  label?: string;
  linked?: boolean;
}) {
  if (categories.length === 0) return null;
  return (
    <ul className="chips" aria-label={label ?? 'Categories'}>
      {categories.map((category) => (
        <li key={category}>
          {linked ? (
            <Link className="chip" to={`/gallery?label=${encodeURIComponent(category)}`}>
              {category}
            </Link>
          ) : (
            <span className="chip">{category}</span>
          )}
        </li>
      ))}
    </ul>
  );
}
