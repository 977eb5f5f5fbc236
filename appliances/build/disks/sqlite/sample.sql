-- /root/sample.db in the romvisor sqlite appliance: built at image build time
-- by the host's sqlite3 from this file (build-appliance.sh sqlite).
-- Sources: NASA planetary fact sheets (mean radius, sidereal orbital period,
-- semi-major axis); moon counts as confirmed in 2023. Debian release dates
-- from debian.org's release history.
PRAGMA page_size = 4096;

CREATE TABLE planets (
    position     INTEGER PRIMARY KEY,  -- order from the Sun
    name         TEXT NOT NULL UNIQUE,
    radius_km    REAL NOT NULL,        -- mean radius
    period_days  REAL NOT NULL,        -- sidereal orbital period
    distance_au  REAL NOT NULL,        -- semi-major axis
    moons        INTEGER NOT NULL
);
INSERT INTO planets VALUES
    (1, 'Mercury',  2439.7,    87.97,  0.387,   0),
    (2, 'Venus',    6051.8,   224.70,  0.723,   0),
    (3, 'Earth',    6371.0,   365.26,  1.000,   1),
    (4, 'Mars',     3389.5,   686.98,  1.524,   2),
    (5, 'Jupiter', 69911.0,  4332.59,  5.203,  95),
    (6, 'Saturn',  58232.0, 10759.22,  9.537, 146),
    (7, 'Uranus',  25362.0, 30688.50, 19.191,  27),
    (8, 'Neptune', 24622.0, 60195.00, 30.069,  14);

CREATE TABLE debian_releases (
    version   TEXT PRIMARY KEY,
    codename  TEXT NOT NULL UNIQUE,
    released  TEXT NOT NULL            -- ISO 8601 date of the first stable release
);
INSERT INTO debian_releases VALUES
    ('7',  'wheezy',   '2013-05-04'),
    ('8',  'jessie',   '2015-04-25'),
    ('9',  'stretch',  '2017-06-17'),
    ('10', 'buster',   '2019-07-06'),
    ('11', 'bullseye', '2021-08-14'),
    ('12', 'bookworm', '2023-06-10');

CREATE VIEW big_planets AS
    SELECT name, radius_km, moons FROM planets WHERE radius_km > 20000 ORDER BY radius_km DESC;
