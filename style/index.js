import './base.css';
import './connection.css';
import './panel.css';
import './statusbar.css';
import './runs.css';
import './snapshots.css';
import './datasets.css';
import './provenance.css';
