import { Icon, type IconName } from '../components/Icon';
import { useTitle } from '../components/Layout';
import { useAuth } from '../lib/auth';
import { Link } from '../lib/router';

const FEATURES: { icon: IconName; title: string; text: string }[] = [
  {
    icon: 'image',
    title: 'Labels you can search',
    text: 'Every photo gets its five most likely ImageNet labels and everyday categories — search “dog”, “bird” or “vehicle” across your library.',
  },
  {
    icon: 'paw',
    title: 'Your spirit dog',
    text: 'Each photo is matched with the dog breed it looks most like, with a reference photo of the breed.',
  },
  {
    icon: 'activity',
    title: 'Live, in milliseconds',
    text: 'Drop in a hundred photos and watch each one go from queued to classified without reloading the page.',
  },
  {
    icon: 'upload',
    title: 'Elastic by design',
    text: 'Workers scale out with the queue and back in when it drains; nothing you upload is lost along the way.',
  },
];

export function Landing() {
  useTitle('');
  const { user } = useAuth();
  return (
    <div className="landing">
      <section className="hero">
        <div className="hero-text">
          <p className="eyebrow">Image recognition service</p>
          <h1>Know what is in every photo.</h1>
          <p className="lead">
            Argus labels your photos in milliseconds, sorts them into categories you can search,
            and finds the dog breed each one resembles.
          </p>
          <div className="hero-actions">
            {user ? (
              <Link to="/gallery" className="button primary large">
                Open your gallery
              </Link>
            ) : (
              <>
                <Link to="/signup" className="button primary large">
                  Create a free account
                </Link>
                <Link to="/login" className="button large">
                  Log in
                </Link>
              </>
            )}
          </div>
        </div>
        <div className="hero-art" aria-hidden="true">
          <div className="mock-card">
            <div className="mock-photo">
              <svg viewBox="0 0 200 150">
                <ellipse cx="100" cy="150" rx="90" ry="28" fill="#4338ca" opacity="0.35" />
                <ellipse cx="62" cy="72" rx="17" ry="34" transform="rotate(18 62 72)" fill="#b7782f" />
                <ellipse cx="138" cy="72" rx="17" ry="34" transform="rotate(-18 138 72)" fill="#b7782f" />
                <ellipse cx="100" cy="74" rx="38" ry="42" fill="#e9b25f" />
                <ellipse cx="100" cy="98" rx="22" ry="17" fill="#f6dcae" />
                <circle cx="86" cy="66" r="5" fill="#2b1d12" />
                <circle cx="114" cy="66" r="5" fill="#2b1d12" />
                <circle cx="87.5" cy="64.5" r="1.5" fill="#fff" />
                <circle cx="115.5" cy="64.5" r="1.5" fill="#fff" />
                <ellipse cx="100" cy="89" rx="8" ry="6" fill="#2b1d12" />
                <path d="M100 95v6m0 0c-3 4-8 4-10 1m10-1c3 4 8 4 10 1" stroke="#2b1d12" strokeWidth="2" fill="none" strokeLinecap="round" />
                <path d="M94 103c2 9 10 9 12 0" fill="#e36f7b" />
              </svg>
            </div>
            <div className="mock-line">
              <span>golden retriever</span>
              <span>92%</span>
            </div>
            <div className="mock-bar">
              <span style={{ width: '92%' }} />
            </div>
            <div className="mock-line">
              <span>Labrador retriever</span>
              <span>5%</span>
            </div>
            <div className="mock-bar">
              <span style={{ width: '5%' }} />
            </div>
            <div className="mock-chips">
              <span>dog</span>
              <span>mammal</span>
              <span>animal</span>
            </div>
          </div>
        </div>
      </section>
      <section className="features" aria-labelledby="features-title">
        <h2 id="features-title" className="visually-hidden">
          Features
        </h2>
        {FEATURES.map((feature) => (
          <article key={feature.title} className="feature card">
            <span className="feature-icon">
              <Icon name={feature.icon} size={22} />
            </span>
            <h3>{feature.title}</h3>
            <p className="muted">{feature.text}</p>
          </article>
        ))}
      </section>
      <section className="card api-teaser" aria-labelledby="api-title">
        <h2 id="api-title" className="h3">
          Built for people and programs
        </h2>
        <p className="muted">
          Everything the web app does is a JSON API call. Create a token in Settings and
          classify from a script:
        </p>
        <pre className="code">
          <code>{`curl -H "Authorization: Bearer $ARGUS_TOKEN" \\
     -F photo=@dog.jpg https://argus.example/api/v1/images`}</code>
        </pre>
      </section>
    </div>
  );
}
