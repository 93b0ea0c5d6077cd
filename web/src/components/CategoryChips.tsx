import { Link } from '../lib/router';

/** Parent categories as chips; each one searches the gallery for that category. */
export function CategoryChips({ categories, label }: { categories: string[]; label?: string }) {
  if (categories.length === 0) return null;
  return (
    <ul className="chips" aria-label={label ?? 'Categories'}>
      {categories.map((category) => (
        <li key={category}>
          <Link className="chip" to={`/gallery?label=${encodeURIComponent(category)}`}>
            {category}
          </Link>
        </li>
      ))}
    </ul>
  );
}
