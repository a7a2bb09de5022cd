/**
 * A deterministic corpus of Markdown documents: each belongs to one of 25 topics (shared topic
 * vocabulary) and has two invented words of its own, so a query naming a document's own words and
 * its topic has exactly one right answer among hundreds of look-alikes.
 */
export interface CorpusDocument {
  readonly name: string;
  readonly topic: string;
  readonly content: string;
  /** Words only this document uses. */
  readonly uniqueWords: readonly [string, string];
}

const TOPICS: Record<string, string[]> = {
  volcanoes: ['magma', 'lava', 'crater', 'eruption', 'basalt', 'caldera', 'ash', 'tephra'],
  baking: ['yeast', 'dough', 'oven', 'crust', 'flour', 'proofing', 'knead', 'sourdough'],
  sailing: ['hull', 'keel', 'mast', 'jib', 'tack', 'starboard', 'mooring', 'rigging'],
  astronomy: ['nebula', 'quasar', 'parallax', 'telescope', 'orbit', 'galaxy', 'redshift', 'comet'],
  beekeeping: ['hive', 'queen', 'brood', 'nectar', 'pollen', 'swarm', 'comb', 'smoker'],
  chess: ['gambit', 'rook', 'bishop', 'castling', 'endgame', 'checkmate', 'pawn', 'opening'],
  glaciers: ['moraine', 'crevasse', 'firn', 'icefall', 'cirque', 'calving', 'serac', 'till'],
  cycling: ['derailleur', 'cadence', 'peloton', 'sprocket', 'saddle', 'crank', 'spoke', 'gearing'],
  pottery: ['kiln', 'glaze', 'slip', 'wheel', 'stoneware', 'bisque', 'clay', 'throwing'],
  networking: ['packet', 'router', 'latency', 'subnet', 'handshake', 'socket', 'bandwidth', 'firewall'],
  gardening: ['compost', 'mulch', 'seedling', 'pruning', 'trellis', 'perennial', 'soil', 'weeding'],
  photography: ['aperture', 'shutter', 'exposure', 'lens', 'tripod', 'bokeh', 'iso', 'sensor'],
  geology: ['strata', 'sediment', 'fault', 'quartz', 'schist', 'erosion', 'granite', 'fossil'],
  medicine: ['diagnosis', 'dosage', 'symptom', 'antibody', 'vaccine', 'pathogen', 'clinic', 'therapy'],
  finance: ['ledger', 'dividend', 'equity', 'bond', 'liquidity', 'audit', 'interest', 'portfolio'],
  music: ['chord', 'tempo', 'melody', 'octave', 'rhythm', 'harmony', 'cadenza', 'staccato'],
  weaving: ['loom', 'warp', 'weft', 'shuttle', 'heddle', 'tapestry', 'yarn', 'twill'],
  robotics: ['actuator', 'servo', 'gripper', 'kinematics', 'lidar', 'torque', 'encoder', 'chassis'],
  fishing: ['lure', 'tackle', 'reel', 'bait', 'trout', 'angler', 'sinker', 'casting'],
  architecture: ['buttress', 'facade', 'cornice', 'vault', 'lintel', 'atrium', 'column', 'arch'],
  cheese: ['rennet', 'curd', 'whey', 'brine', 'rind', 'cheddar', 'aging', 'culture'],
  aviation: ['aileron', 'fuselage', 'runway', 'altimeter', 'rudder', 'flaps', 'turbine', 'cockpit'],
  typography: ['kerning', 'serif', 'ligature', 'baseline', 'glyph', 'leading', 'typeface', 'tracking'],
  coffee: ['espresso', 'roast', 'crema', 'grinder', 'arabica', 'brew', 'barista', 'extraction'],
  forestry: ['canopy', 'timber', 'sapling', 'conifer', 'logging', 'understory', 'seedbank', 'thinning'],
};
const FILLER = 'the a of and to in is that for with as on by this which from it be are or an at'.split(' ');
/** Everyday words shared by every topic, so topic words do not dominate every chunk. */
const GENERAL = (
  'people often use simple methods when working carefully through problems each day while learning ' +
  'new skills over time because practice makes results better and mistakes become lessons worth ' +
  'remembering later during long projects with friends family colleagues teachers students experts ' +
  'beginners tools notes plans ideas questions answers examples details steps stages parts pieces'
).split(' ');
const SYLLABLES = 'ka lo mi ru ze ta vo ni qu ex ar pli dro sen vak tur bel gon fy wex'.split(' ');

/** xorshift32: the same corpus on every machine and run. */
function random(seed: number) {
  let state = seed || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

export function generateCorpus(count: number, seed = 42): CorpusDocument[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const topics = Object.keys(TOPICS);
  const used = new Set<string>();
  const inventWord = () => {
    for (;;) {
      const word = Array.from({ length: 3 + Math.floor(next() * 2) }, () => pick(SYLLABLES)).join('');
      if (!used.has(word)) {
        used.add(word);
        return word;
      }
    }
  };
  const documents: CorpusDocument[] = [];
  for (let index = 0; index < count; index++) {
    const topic = topics[index % topics.length]!;
    const vocabulary = TOPICS[topic]!;
    const uniqueWords: [string, string] = [inventWord(), inventWord()];
    const sentence = (extra: string[]) => {
      const words = Array.from({ length: 10 + Math.floor(next() * 8) }, () =>
        next() < 0.25 ? pick(vocabulary) : next() < 0.5 ? pick(FILLER) : pick(GENERAL),
      );
      for (const word of extra) words.splice(Math.floor(next() * words.length), 0, word);
      return `${words.join(' ')}.`;
    };
    const sections = 2 + Math.floor(next() * 4);
    let content = `# ${topic} note ${index}\n\n`;
    for (let section = 0; section < sections; section++) {
      content += `## ${pick(vocabulary)} ${pick(vocabulary)}\n\n`;
      const paragraphs = 1 + Math.floor(next() * 3);
      for (let paragraph = 0; paragraph < paragraphs; paragraph++) {
        // The document's own subject: in every sentence of its first section, once in the others.
        const mentions = (position: number) => (section === 0 || position === 0 ? [...uniqueWords] : []);
        content += `${Array.from({ length: 3 }, (_, position) => sentence(mentions(position))).join(' ')}\n\n`;
      }
    }
    documents.push({
      name: `${topic}/note-${String(index).padStart(4, '0')}.md`,
      topic,
      content,
      uniqueWords,
    });
  }
  return documents;
}

/** Queries with one right answer: a question naming a document's own subject. */
export function corpusQueries(corpus: readonly CorpusDocument[], count: number) {
  const step = Math.floor(corpus.length / count);
  return Array.from({ length: count }, (_, index) => {
    const document = corpus[index * step + 3]!;
    return {
      query: `tell me more about ${document.uniqueWords[0]} ${document.uniqueWords[1]}`,
      expected: document.name,
    };
  });
}
